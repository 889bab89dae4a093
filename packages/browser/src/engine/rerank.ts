// Reranking in the worker: the shop's list scored against the model already on this device, never the network.
import createDebug from 'debug'
import { readEvents } from '../db.ts'
import { LEAVE_OUT } from '../events.ts'
import type { CheckedRerankOptions } from '../recommender-input.ts'
import { orderList, type RerankResult } from '../rerank.ts'
import { hasPopularitySignal } from '../suggest.ts'
import { personalQuery, type ScoringParts } from './scoring.ts'

const log = createDebug('fedrec:browser:rerank')

/**
 * The shop's list in this shopper's order (see `Recommender.rerank`). Only the model on this device is used —
 * a shopper with none yet gets the shop's order back (`kind: 'none'`) rather than a download on the
 * shop's search path. Scores are u·v_i + c_i as in `recommend` (v_i: the id row plus, in a model with item
 * features, the item's pooled feature rows — so a product no round has trained yet is ranked by them),
 * computed with a plain loop over the listed rows (at most 10,000 × dim), so no tfjs backend is needed and a
 * failing GPU cannot cost the shop its list.
 */
export async function rerank(
  parts: ScoringParts,
  itemIds: readonly string[],
  options: CheckedRerankOptions,
): Promise<RerankResult> {
  const { context, unknown, leaveOut: leave, k } = options
  const events = await readEvents(parts.db)
  const leaveOut = new Set<string>()
  if (leave !== 'none') for (const e of events) if (LEAVE_OUT[leave].includes(e.type)) leaveOut.add(e.itemId)

  const model = await parts.models.local()
  const order = { unknown, leaveOut, k }
  const hasHistory = model !== null && events.some((e) => model.rowOf.has(e.itemId))
  // Version 0 is the random initialisation: its order would be noise presented as personal.
  if (
    model === null ||
    model.version === 0 ||
    (!hasHistory && !hasPopularitySignal(model.scoring.itemBias))
  ) {
    log('%s: %d ids in the shop order (no trained model here)', context, itemIds.length)
    const modelVersion = model?.version ?? -1
    return {
      kind: 'none',
      context,
      modelVersion,
      ...orderList(itemIds, { ...order, basis: 'popular', scoreOf: null }),
    }
  }

  const { itemEmbedding, itemBias, dim } = model.scoring
  const query = hasHistory ? await personalQuery(parts, model, events) : new Float32Array(dim)
  const scoreOf = (itemId: string): number | undefined => {
    const row = model.rowOf.get(itemId)
    if (row === undefined) return undefined
    let score = itemBias[row]!
    for (let j = 0, at = row * dim; j < dim; j++) score += query[j]! * itemEmbedding[at + j]!
    return score
  }
  const basis = hasHistory ? 'personal' : 'popular'
  log('%s: %d ids, %s order, model v%d', context, itemIds.length, basis, model.version)
  return {
    kind: basis,
    context,
    modelVersion: model.version,
    ...orderList(itemIds, { ...order, basis, scoreOf }),
  }
}
