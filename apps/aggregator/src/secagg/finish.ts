// The cohort's last step: reconstructing the sum and closing the round with it, retrying a failed write.
import type { SecAggResult } from '@fedrec/core/server'
import { logError } from '../error-log.ts'
import { abort, log, openCohort } from './cohort-lifecycle.ts'
import { type CoordinatorState, iso, RETRY_MS } from './coordinator-state.ts'
import type { CohortRecord } from './store.ts'

/**
 * Reconstructs the sum and closes the round with it; on failure the cohort aborts (or retries a write).
 * Runs once at a time: a second call gets the run in progress.
 */
export function finish(s: CoordinatorState): Promise<void> {
  // Started from inside a section of the aggregator's lock, it runs on its own and takes the lock for each
  // of its writes. It never rejects: what fails is logged, and the cohort stays unmasking or is aborted.
  s.finishing ??= s.host.serial
    .detach(() => run(s))
    .catch((err: unknown) => logError('secagg_finish_failed', err, { cohort: s.cohort.cohort }))
    .finally(() => {
      s.finishing = undefined
    })
  return s.finishing
}

async function run(s: CoordinatorState): Promise<void> {
  const { host } = s
  const c = s.cohort
  let result: SecAggResult
  try {
    result = await s.server.finish()
  } catch (err) {
    logError('secagg_unmask_failed', err, { cohort: c.cohort, round: c.round })
    await host.serial('secure-aggregation abort', async () => {
      if (s.cohort.cohort === c.cohort)
        await abort(s, `the sum could not be unmasked (${(err as Error).message})`)
    })
    return
  }
  for (;;) {
    const closed = await host.serial('secure-aggregation close', () => close(s, c, result))
    if (closed !== 'failed') return
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref())
  }
}

/** One try at closing the round with the cohort's sum, under the lock; the next cohort opens with it. */
async function close(
  s: CoordinatorState,
  c: CohortRecord,
  result: SecAggResult,
): Promise<'closed' | 'gone' | 'failed'> {
  const { host } = s
  if (s.closed || s.cohort.cohort !== c.cohort) return 'gone'
  try {
    await host.complete(result.sum, result.survivors.length, (tx) =>
      tx.secAgg.endCohort(c.cohort, {
        phase: 'done',
        at: iso(host.now()),
        reason: null,
        survivors: result.survivors.length,
      }),
    )
  } catch (err) {
    logError('round_close_failed', err, {
      cohort: c.cohort,
      round: c.round,
      closedBy: 'secure_aggregation',
      retryInMs: RETRY_MS,
    })
    return 'failed'
  }
  log(
    'cohort %d done: %d survivors, %d dropped after sharing; round %d closed',
    c.cohort,
    result.survivors.length,
    result.dropped.length,
    c.round,
  )
  await openCohort(s)
  return 'closed'
}
