// One federated round on this device: round info, model, history, training, then the round's upload strategy.
import type { RowEvent } from '@fedrec/core/client'
import { isRefusal, type Meter, type ProtocolClient, RETRAIN_CODES, type RoundConfig } from '@fedrec/protocol'
import createDebug from 'debug'
import { type FedrecDatabase, readEvents } from '../../db.ts'
import type { BackendGuard } from '../backend-guard.ts'
import type { ModelCache } from '../model-cache.ts'
import type { ProfileStore } from '../profile.ts'
import { toSharedRows } from '../shop-view.ts'
import type { PlainUpload } from './plain-upload.ts'
import { newPhases, type SyncReport, timed } from './report.ts'
import { type TrainParts, train } from './train.ts'
import type { Uploaded, UploadStrategy } from './upload.ts'

const log = createDebug('fedrec:browser:engine')

/** What a round uses of the engine. */
export interface SyncParts {
  db: FedrecDatabase
  client: ProtocolClient
  models: ModelCache
  guard: BackendGuard
  profile: ProfileStore
  training: TrainParts
  plain: PlainUpload
  secure: UploadStrategy
  /** Told the config of each round seen: its sequence settings shape the shopper's state when recommending. */
  onConfig(config: RoundConfig): void
}

/** What an earlier attempt of the same round already cost, so the report counts all of it. */
interface Carry {
  attempt: number
  started: number
  bytes: Meter
}

/**
 * One round; a refusal that says the round moved on while we trained (`RETRAIN_CODES`) starts it again
 * on the current round and model with a fresh update, once.
 */
export async function runSync(
  parts: SyncParts,
  carry: Carry = { attempt: 0, started: performance.now(), bytes: { up: 0, down: 0 } },
): Promise<SyncReport> {
  const meter: Meter = { ...carry.bytes }
  const phases = newPhases()
  const info = await timed(phases, 'roundInfo', () => parts.client.roundInfo(meter))
  parts.onConfig(info.config)
  const model = await timed(phases, 'model', () => parts.models.ensure(info.modelVersion, meter))
  const backend = await timed(phases, 'backend', () => parts.guard.ensure())
  const profile = await timed(phases, 'history', () => parts.profile.read())
  const report = (uploaded: Uploaded | null, extra: Partial<SyncReport> = {}): SyncReport => ({
    round: info.round,
    modelVersion: model.version,
    backend,
    phases,
    samples: uploaded?.samples ?? 0,
    loss: uploaded?.loss ?? Number.NaN,
    bytesUp: meter.up,
    bytesDown: meter.down,
    ms: performance.now() - carry.started,
    uploaded: uploaded !== null,
    ...extra,
  })
  const settled = async (upload: () => Promise<Uploaded>, extra: Partial<SyncReport>) => {
    try {
      return report(await upload(), extra)
    } catch (err) {
      if (!isRefusal(err, RETRAIN_CODES) || carry.attempt > 0) throw err
      log('round moved on (%s); retraining', err.reason)
      return runSync(parts, { attempt: carry.attempt + 1, started: carry.started, bytes: meter })
    }
  }

  if (profile.lastRound === info.round) {
    // This device already contributed to this round (e.g. from another tab): nothing to add.
    return report(null)
  }
  const left = profile.pendingUpload
  if (
    left?.round === info.round &&
    left.modelVersion === info.modelVersion &&
    !info.config.secureAggregation
  ) {
    // The last sync of this round was cut off (the shopper navigated away) after its update was stored,
    // perhaps after it was sent: send the same bytes again rather than train again. The aggregator counts
    // an update once however often it arrives.
    log('resending the update of round %d left by an interrupted sync', info.round)
    return settled(() => parts.plain.deliver(left, phases, meter), { resumed: true })
  }
  const events: RowEvent[] = []
  for (const e of await timed(phases, 'history', () => readEvents(parts.db))) {
    const row = model.rowOf.get(e.itemId)
    if (row !== undefined) events.push({ type: e.type, row })
  }
  if (events.length === 0) return report(null)

  const local = await timed(phases, 'train', () => train(parts.training, info, model, profile, events))
  // A shop's part of a shared model trained on its own rows: the update names the shared model's.
  const trained = model.sharedRows
    ? {
        ...local,
        result: { ...local.result, deltas: toSharedRows(local.result.deltas, model.sharedRows) },
      }
    : local
  // A history of one distinct item has no next item to learn from: nothing to upload this round.
  if (trained.result.sampleCount === 0) return report(null)
  const strategy = info.config.secureAggregation ? parts.secure : parts.plain
  const numFeatures = model.weights.features?.rows
  return settled(() => strategy.upload({ info, profile, trained, numFeatures, phases, meter }), {
    backend: trained.backend,
  })
}
