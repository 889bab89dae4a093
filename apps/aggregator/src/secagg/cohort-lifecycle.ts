// The cohort's life outside its protocol steps: opening a fresh cohort, aborting, moving the phase and its
// deadline timer, and following the round when it closes without the cohort.
import { randomBytes } from 'node:crypto'
import type { SecAggPhase } from '@fedrec/protocol'
import createDebug from 'debug'
import { logError } from '../error-log.ts'
import {
  type CoordinatorState,
  ended,
  iso,
  MEMBER_RETENTION_MS,
  newServer,
  phaseDeadline,
  RETRY_MS,
  type SecAggHost,
} from './coordinator-state.ts'
import type { CohortRecord, SecAggStore } from './store.ts'

export const log = createDebug('fedrec:aggregator:secagg')

/** Stores a fresh cohort for the open round and forgets the members of cohorts that ended long ago. */
export async function insertCohort(host: SecAggHost, db: SecAggStore): Promise<CohortRecord> {
  const { round } = host.current()
  const number = ((await db.latestCohort())?.cohort ?? 0) + 1
  const fresh: CohortRecord = {
    cohort: number,
    round,
    // Unique per attempt, bound into every key derivation: a retried cohort never repeats a mask.
    sessionId: `r${round}-c${number}-${randomBytes(8).toString('hex')}`,
    phase: 'advertise',
    phaseDeadline: phaseDeadline(host),
    openedAt: iso(host.now()),
    closedAt: null,
    abortReason: null,
    survivors: null,
  }
  await db.insertCohort(fresh)
  const pruned = await db.pruneMembers(iso(host.now() - MEMBER_RETENTION_MS))
  if (pruned > 0) log('forgot %d members of cohorts that ended a day ago', pruned)
  return fresh
}

/** Opens a fresh cohort for the open round (durable first). */
export async function openCohort(s: CoordinatorState): Promise<void> {
  const fresh = await insertCohort(s.host, s.db)
  s.cohort = fresh
  s.server = newServer(s.host, fresh)
  s.roster = undefined
  s.unmaskRequest = undefined
  announce(s)
}

/** Logs the cohort that just opened and starts its advertise phase's timer. */
export function announce(s: CoordinatorState): void {
  log('cohort %d (%s) forming for round %d', s.cohort.cohort, s.cohort.sessionId, s.cohort.round)
  arm(s)
}

/** Ends the running cohort as aborted and opens the next one. */
export async function abort(s: CoordinatorState, reason: string): Promise<void> {
  log('cohort %d aborted in phase %s: %s', s.cohort.cohort, s.cohort.phase, reason)
  await s.db.endCohort(s.cohort.cohort, { phase: 'aborted', at: iso(s.host.now()), reason, survivors: null })
  await openCohort(s)
}

/** Moves the cohort to `phase` with a fresh deadline (durable first; `db` is a transaction's when in one). */
export async function setPhase(
  s: CoordinatorState,
  phase: SecAggPhase,
  db: SecAggStore = s.db,
): Promise<void> {
  const deadline = phaseDeadline(s.host)
  await db.setPhase(s.cohort.cohort, phase, deadline)
  s.cohort = { ...s.cohort, phase, phaseDeadline: deadline }
  log('cohort %d: phase %s until %s', s.cohort.cohort, phase, deadline)
  arm(s)
}

/** The stored cohort is of a closed round (a deadline or the operator moved on): abort it. */
export async function followRound(s: CoordinatorState): Promise<void> {
  const { cohort } = s
  if (cohort.round !== s.host.current().round && !ended(cohort)) {
    await abort(s, `round ${cohort.round} closed without this cohort`)
  } else if (ended(cohort)) {
    await openCohort(s)
  }
}

/** (Re)starts the timer that moves the cohort on at its phase deadline. */
export function arm(s: CoordinatorState): void {
  if (s.timer) clearTimeout(s.timer)
  s.timer = undefined
  if (!s.host.timers || s.closed) return
  const delay = Math.max(0, Date.parse(s.cohort.phaseDeadline) - s.host.now())
  // Armed inside a section of the aggregator's lock; what it fires takes the lock in a section of its own.
  s.timer = s.host.serial.detach(() =>
    setTimeout(() => {
      s.onDeadline().catch((err: unknown) => {
        logError('secagg_deadline_failed', err, { cohort: s.cohort.cohort, round: s.cohort.round })
        s.timer = s.host.serial.detach(() => setTimeout(() => arm(s), RETRY_MS).unref())
      })
    }, delay),
  )
  s.timer.unref()
}
