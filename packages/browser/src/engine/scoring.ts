// Recommending in the worker: the shopper's state from the history on this device, scored on the cached model.
import { type EventWeights, type RowEvent, sequenceQuery, sequenceSettingsOf } from '@fedrec/core/client'
import type { RoundConfig } from '@fedrec/protocol'
import { type FedrecDatabase, readEvents, type StoredEvent } from '../db.ts'
import { LEAVE_OUT, type LeaveOut } from '../events.ts'
import {
  hasPopularitySignal,
  nearestRow,
  type SuggestionSet,
  type SuggestRequest,
  topByBias,
} from '../suggest.ts'
import type { BackendGuard } from './backend-guard.ts'
import type { LoadedModel, ModelCache } from './model-cache.ts'
import type { ProfileStore } from './profile.ts'

/** One recommended item, best first. */
export interface Recommendation {
  itemId: string
  score: number
}

/** What scoring reads; `lastConfig` is the round config of the last sync (null before any). */
export interface ScoringParts {
  db: FedrecDatabase
  models: ModelCache
  guard: BackendGuard
  profile: ProfileStore
  lastConfig: () => RoundConfig | null
  eventWeights: EventWeights | undefined
}

/**
 * The shopper's state for scoring, on this device only: the recency-weighted embeddings of their recent
 * items under the settings of the last round config seen (core's defaults before any), plus the private
 * vector where the aggregator has clients keep one.
 */
export async function personalQuery(
  parts: ScoringParts,
  model: LoadedModel,
  events: readonly StoredEvent[],
): Promise<Float32Array> {
  const rows: RowEvent[] = []
  for (const e of events) {
    const row = model.rowOf.get(e.itemId)
    if (row !== undefined) rows.push({ type: e.type, row })
  }
  const profile = await parts.profile.read()
  const config = parts.lastConfig()
  const keep = config?.privateVector === true && profile.userVector?.length === model.scoring.dim
  return sequenceQuery(model.scoring, rows, {
    settings: sequenceSettingsOf(config ?? {}),
    ...(parts.eventWeights ? { eventWeights: parts.eventWeights } : {}),
    ...(keep && profile.userVector ? { privateVector: profile.userVector } : {}),
  })
}

/**
 * The k best items for this shopper, scored in the worker against the cached model: the shopper's state is
 * the pooled embeddings of their recent items (`sequenceQuery`), read from the history on this device.
 * `leaveOut` says which of the shopper's own items are not recommended again: 'carted' (default: added to
 * the cart or bought), 'bought', or 'seen' (everything they touched).
 */
export async function recommend(
  parts: ScoringParts,
  k: number,
  leaveOut: LeaveOut,
): Promise<Recommendation[]> {
  const model = await parts.models.ready()
  const events = await readEvents(parts.db)
  const query = await personalQuery(parts, model, events)
  const skip = new Set<number>()
  for (const e of events) {
    const row = model.rowOf.get(e.itemId)
    if (row !== undefined && LEAVE_OUT[leaveOut].includes(e.type)) skip.add(row)
  }
  const top = await parts.guard.withScorer(model.scoring, (s) => s.topK(query, k, skip))
  return top.map(({ row, score }) => ({ itemId: model.itemIds[row]!, score }))
}

/**
 * Recommendations with their kind and a reason per item (see `SuggestionSet`). Popularity and the
 * "why this?" neighbour are plain loops over the cached arrays; only personal and similar scoring use tfjs,
 * so a shopper whose every backend fails still gets popular items.
 */
export async function suggest(parts: ScoringParts, request: SuggestRequest): Promise<SuggestionSet> {
  const { mode = 'for-you', k = 10, itemId, exclude = [], leaveOut = 'carted' } = request
  const model = await parts.models.ready()
  const { scoring: weights, itemIds, rowOf, version } = model
  const skip = new Set<number>()
  for (const id of exclude) {
    const row = rowOf.get(id)
    if (row !== undefined) skip.add(row)
  }
  // Most recent first, each item once: the candidates for "because you viewed …".
  const historyRows: number[] = []
  const seen = new Set<number>()
  const events = await readEvents(parts.db)
  for (let i = events.length - 1; i >= 0; i--) {
    const row = rowOf.get(events[i]!.itemId)
    if (row === undefined) continue
    if (LEAVE_OUT[leaveOut].includes(events[i]!.type)) skip.add(row)
    if (!seen.has(row)) historyRows.push(row)
    seen.add(row)
  }
  const because = (row: number) => {
    const near = nearestRow(weights.itemEmbedding, weights.dim, row, historyRows.slice(0, 200))
    return near ? { itemId: itemIds[near.row]!, similarity: near.similarity } : null
  }
  const target = itemId === undefined ? undefined : rowOf.get(itemId)
  // Version 0 is the random initialisation: its neighbours mean nothing yet, so fall through.
  if (mode === 'similar' && target !== undefined && version > 0) {
    skip.add(target)
    const rows = await parts.guard.withScorer(weights, (s) => s.similarRows(target, k + skip.size))
    const items = rows.filter((r) => !skip.has(r.row)).slice(0, k)
    return {
      kind: 'similar',
      modelVersion: version,
      items: items.map((r) => ({
        itemId: itemIds[r.row]!,
        score: r.score,
        because: { itemId: itemIds[target]!, similarity: r.score },
      })),
    }
  }
  if (mode !== 'popular' && historyRows.length > 0) {
    const query = await personalQuery(parts, model, events)
    const rows = await parts.guard.withScorer(weights, (s) => s.topK(query, k, skip))
    return {
      kind: 'personal',
      modelVersion: version,
      items: rows.map((r) => ({ itemId: itemIds[r.row]!, score: r.score, because: because(r.row) })),
    }
  }
  if (!hasPopularitySignal(weights.itemBias)) return { kind: 'none', modelVersion: version, items: [] }
  return {
    kind: 'popular',
    modelVersion: version,
    items: topByBias(weights.itemBias, k, (row) => skip.has(row)).map((r) => ({
      itemId: itemIds[r.row]!,
      score: r.score,
      because: null,
    })),
  }
}
