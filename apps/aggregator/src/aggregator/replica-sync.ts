/**
 * Replicas: on a shared store (PostgreSQL) other aggregator processes close and reset rounds too, so the
 * model, optimizer state and open round a process holds are a cache of the database, read again before every
 * state change and every read that answers a client.
 */
import createDebug from 'debug'
import { type AggregatorState, newAccumulator } from './state.ts'

const logRound = createDebug('fedrec:aggregator:round')

/** Reads of a state that a close kept changing under them before giving up (a close takes one transaction). */
const MAX_ATTEMPTS = 20

/**
 * Brings `s` up to the store: the open round's record (its deadline, resets) always; the model and optimizer
 * state when another replica has closed the round since. A no-op on a store only this process writes.
 * Resolves true when the round moved on. Call it in a section of the aggregator's lock.
 */
export async function refreshState(s: AggregatorState): Promise<boolean> {
  if (!s.store.shared || s.closed) return false
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const round = await s.store.openRound()
    if (round.round === s.round.round && round.modelVersion === s.model.version) {
      s.round = round
      return false
    }
    // Model and optimizer state of the open round: read between two reads of the round, so that a close
    // committed in between (they are separate statements) is seen and the reads are done again.
    const model = await s.store.loadModel()
    const optimizerState = await s.store.loadOptimizerState()
    const after = await s.store.openRound()
    if (after.round !== round.round || model.version !== round.modelVersion) continue
    const resized = model.itemIds.length !== s.model.itemIds.length || model.dim !== s.model.dim
    s.model = model
    s.optimizerState = optimizerState
    s.round = after
    s.negativesCeiling = s.opts.negativesPerPositive
    if (resized || !s.accumulator) s.accumulator = newAccumulator(model, s.opts)
    logRound('round %d (model version %d) opened by another replica', after.round, model.version)
    return true
  }
  throw new Error(`the open round kept changing over ${MAX_ATTEMPTS} reads`)
}
