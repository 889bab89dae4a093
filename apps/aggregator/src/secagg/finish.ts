// The cohort's last step: reconstructing the sum and closing the round with it, retrying a failed write.
import type { SecAggResult } from '@fedrec/core/server'
import { logError } from '../error-log.ts'
import { abort, log, openCohort } from './cohort-lifecycle.ts'
import { type CoordinatorState, iso, RETRY_MS } from './coordinator-state.ts'

/**
 * Reconstructs the sum and closes the round with it; on failure the cohort aborts (or retries a write).
 * Runs once at a time: a second call gets the run in progress.
 */
export function finish(s: CoordinatorState): Promise<void> {
  s.finishing ??= run(s).finally(() => {
    s.finishing = undefined
  })
  return s.finishing
}

async function run(s: CoordinatorState): Promise<void> {
  const { host, db } = s
  const c = s.cohort
  let result: SecAggResult
  try {
    result = await s.server.finish()
  } catch (err) {
    logError('secagg_unmask_failed', err, { cohort: c.cohort, round: c.round })
    if (s.cohort.cohort === c.cohort) abort(s, `the sum could not be unmasked (${(err as Error).message})`)
    return
  }
  for (;;) {
    if (s.closed || s.cohort.cohort !== c.cohort) return
    try {
      host.complete(result.sum, result.survivors.length, () =>
        db.endCohort(c.cohort, {
          phase: 'done',
          at: iso(host.now()),
          reason: null,
          survivors: result.survivors.length,
        }),
      )
      break
    } catch (err) {
      logError('round_close_failed', err, {
        cohort: c.cohort,
        round: c.round,
        closedBy: 'secure_aggregation',
        retryInMs: RETRY_MS,
      })
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref())
    }
  }
  log(
    'cohort %d done: %d survivors, %d dropped after sharing; round %d closed',
    c.cohort,
    result.survivors.length,
    result.dropped.length,
    c.round,
  )
  openCohort(s)
}
