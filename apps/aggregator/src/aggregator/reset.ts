/** The operator's reset of the open round: its accepted updates discarded, the same round reopened with a fresh deadline. */
import createDebug from 'debug'
import { AggregatorError } from './errors.ts'
import type { RoundReset } from './index.ts'
import { type AggregatorState, deadlineMs, iso } from './state.ts'

const logRound = createDebug('fedrec:aggregator:round')

/**
 * The reset behind `Aggregator.resetRound`, under the aggregator's lock; `commitQueue` and `arm` are the
 * submissions' and the timers'.
 * @throws AggregatorError `round_closed`, `future_round` when `expectedRound` is not the open round
 */
export async function resetRound(
  s: AggregatorState,
  deps: { commitQueue(): Promise<void>; arm(): void },
  expectedRound?: number,
): Promise<RoundReset> {
  if (expectedRound !== undefined && expectedRound < s.round.round) {
    throw new AggregatorError(
      'round_closed',
      `round ${expectedRound} has already closed (the open round is ${s.round.round}): nothing was reset; its updates are in model version ${expectedRound + 1}`,
    )
  }
  if (expectedRound !== undefined && expectedRound > s.round.round) {
    throw new AggregatorError(
      'future_round',
      `round ${expectedRound} has not opened (the open round is ${s.round.round}): nothing was reset`,
    )
  }
  // Updates waiting for their group commit were accepted before the reset: they are written (and their
  // clients acknowledged) first, so the reset discards them with the rest and a retry hears round_reset.
  await deps.commitQueue()
  const now = s.opts.now()
  const reopen = { at: iso(now), deadline: iso(now + deadlineMs(s.opts)) }
  // Durable first: if the transaction fails, the round, its updates and the accumulator stay as they were.
  // Replicas: the round's row FOR UPDATE first, so that uploads holding it FOR SHARE commit before the reset
  // (and are discarded with the rest) and a close at another replica cannot interleave.
  const discarded = await s.store.transaction(async (tx) => {
    if (!(await tx.lockOpenRound(s.round.round, 'update')))
      throw new AggregatorError(
        'round_closed',
        `round ${s.round.round} has just closed (at another replica): nothing was reset`,
      )
    return tx.resetRound(s.round.round, reopen)
  })
  // A cohort running in this round would bring its masked inputs back with its sum: it goes too.
  await s.secagg?.abortCohort('the operator reset the round')
  const round = {
    ...s.round,
    openedAt: reopen.at,
    deadline: reopen.deadline,
    resets: s.round.resets + 1,
    discarded: s.round.discarded + discarded,
  }
  s.round = round
  s.accumulator?.reset()
  logRound(
    'round %d reset by the operator: %d accepted updates discarded (reset %d of this round); reopened on model version %d, deadline %s',
    round.round,
    discarded,
    round.resets,
    s.model.version,
    round.deadline,
  )
  deps.arm()
  return {
    round: round.round,
    modelVersion: s.model.version,
    discarded,
    resets: round.resets,
    deadline: round.deadline,
  }
}
