// Applying one protocol step together with its write: the core's refusals become SecAggRefusals, and a
// failed write rebuilds the in-memory state from the store.
import { isSecAggError } from '@fedrec/core/server'
import type { CoordinatorState } from './coordinator-state.ts'
import { SecAggRefusal } from './errors.ts'
import { replayFromStore } from './replay.ts'
import type { SecAggStore } from './store.ts'

/** Runs a protocol step; the core's refusals (wrong recipients, sizes, ids) become refusals of the request. */
export function protocol<T>(step: () => T): T {
  try {
    return step()
  } catch (err) {
    if (isSecAggError(err)) {
      throw new SecAggRefusal(
        err.code === 'bad_phase'
          ? 'wrong_phase'
          : err.code === 'duplicate_message'
            ? 'already_sent'
            : 'bad_secagg_message',
        err.message,
        { cause: err },
      )
    }
    throw err
  }
}

/** Writes `write` and applies `step` to the protocol state as one unit: either both happen or neither. */
export async function commit(
  s: CoordinatorState,
  step: () => void,
  write: (db: SecAggStore) => Promise<void>,
): Promise<void> {
  try {
    await s.host.store.transaction(async (tx) => {
      protocol(step)
      await write(tx.secAgg)
    })
  } catch (err) {
    // The step may have changed the in-memory state although the write failed: rebuild it from the store.
    if (!(err instanceof SecAggRefusal)) await replayFromStore(s)
    throw err
  }
}
