/** The round's timers: its deadline (close, or extend an empty round) and the retry of a close on quorum that failed. */
import createDebug from 'debug'
import { logError } from '../error-log.ts'
import { type AggregatorState, type ClosedBy, deadlineMs, iso, participants, roundTally } from './state.ts'

const logRound = createDebug('fedrec:aggregator:round')

/** How long after a failed close on quorum the close is tried again. */
const CLOSE_RETRY_MS = 1000
/** setTimeout's longest delay (about 24.8 days); a later deadline is re-armed when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * The timers of the open round. Neither keeps the process alive: the HTTP server does. What a timer runs
 * takes the aggregator's lock; `arm` and `closeOnQuorum` are called by code that holds it.
 * @example const timers = createRoundTimers(s, close); timers.arm()
 */
export interface RoundTimers {
  /** (Re-)arms the deadline timer for the open round (unless timers are off or the aggregator closed). */
  arm(): void
  /** Closes (or extends) the round if its deadline has passed, under the lock. The deadline timer calls it. */
  checkDeadline(): Promise<void>
  /**
   * Closes the round if its quorum is met. A close that fails (disk full, I/O error…) is tried again every
   * CLOSE_RETRY_MS until it succeeds: the updates are durable and counted, so they stay acknowledged, but the
   * update that met the quorum may well be the round's last one, and waiting for "the next update" would
   * mean waiting for the deadline.
   */
  closeOnQuorum(): Promise<void>
  /** Clears both timers (at close). */
  stop(): void
}

export function createRoundTimers(
  s: AggregatorState,
  closeRound: (closedBy: ClosedBy) => Promise<void>,
  refresh: () => Promise<unknown>,
): RoundTimers {
  let timer: NodeJS.Timeout | undefined
  let closeRetry: NodeJS.Timeout | undefined

  const arm = (): void => {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (!s.opts.deadlineTimer || s.closed) return
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, Date.parse(s.round.deadline) - s.opts.now()))
    // Armed inside a section of the lock, fired in a section of its own.
    timer = s.serial.detach(() =>
      setTimeout(() => {
        checkDeadline().catch((err: unknown) => {
          // A failed close (disk full…) leaves the round open; try again at the next tick of the clock.
          logError('round_close_failed', err, { round: s.round.round, closedBy: 'deadline' })
          timer = s.serial.detach(() => setTimeout(arm, 1000).unref())
        })
      }, delay),
    )
    // The HTTP server keeps the process alive; the timer alone must not.
    timer.unref()
  }

  const checkDeadline = (): Promise<void> => s.serial('deadline', deadlineReached)

  const deadlineReached = async (): Promise<void> => {
    if (s.closed) return
    // Replicas: another one may have closed, reset or extended the round since this timer was armed.
    await refresh()
    const now = s.opts.now()
    if (now < Date.parse(s.round.deadline)) {
      arm()
      return
    }
    // Replicas: every one's timer fires; the close decides under the round's lock (close, extend, or nothing).
    if (s.store.shared) {
      await closeRound('deadline')
      return
    }
    if (participants(s) > 0 || (await s.store.pendingItems()).length > 0) {
      await closeRound('deadline')
      return
    }
    const deadline = iso(now + deadlineMs(s.opts))
    await s.store.setDeadline(s.round.round, deadline)
    s.round = { ...s.round, deadline }
    logRound('round %d reached its deadline with no update; new deadline %s', s.round.round, deadline)
    arm()
  }

  const closeOnQuorum = async (): Promise<void> => {
    if (closeRetry) clearTimeout(closeRetry)
    closeRetry = undefined
    if (s.closed || !s.accumulator) return
    try {
      if ((await roundTally(s)).participants < s.opts.minClients) return
      await closeRound('quorum')
    } catch (err) {
      logError('round_close_failed', err, {
        round: s.round.round,
        closedBy: 'quorum',
        retryInMs: CLOSE_RETRY_MS,
      })
      // The retry runs in a section of its own; closeOnQuorum logs its own failure, so it cannot reject.
      closeRetry = s.serial.detach(() =>
        setTimeout(() => void s.serial('close on quorum (retry)', closeOnQuorum), CLOSE_RETRY_MS),
      )
      // The HTTP server keeps the process alive; the retry alone must not.
      closeRetry.unref()
    }
  }

  const stop = (): void => {
    if (timer) clearTimeout(timer)
    if (closeRetry) clearTimeout(closeRetry)
  }

  return { arm, checkDeadline, closeOnQuorum, stop }
}
