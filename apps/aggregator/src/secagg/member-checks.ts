// What every member request checks first (the bearer token, the cohort's phase) and how it is acknowledged.
import type { SecAggAck, SecAggPhase } from '@fedrec/protocol'
import { type CoordinatorState, ended, hashToken } from './coordinator-state.ts'
import { SecAggRefusal } from './errors.ts'
import type { CohortRecord, MemberRecord } from './store.ts'

/** The cohort `number` and the member whose join token is `token`; refused when there is none. */
export async function member(
  s: CoordinatorState,
  number: number,
  token: string | undefined,
): Promise<{ c: CohortRecord; m: MemberRecord }> {
  const c = number === s.cohort.cohort ? s.cohort : await s.db.cohort(number)
  if (!c) throw new SecAggRefusal('unknown_cohort', `there is no cohort ${number}`)
  const m = token === undefined ? undefined : await s.db.memberByToken(number, hashToken(token))
  if (!m)
    throw new SecAggRefusal(
      'not_a_member',
      `send the token you joined cohort ${number} with as "Authorization: Bearer <token>"`,
    )
  return { c, m }
}

/** Refuses `what` (a kind of message) unless `c` is the running cohort and in `phase`. */
export function running(s: CoordinatorState, c: CohortRecord, phase: SecAggPhase, what: string): void {
  if (c.cohort !== s.cohort.cohort || ended(c))
    throw new SecAggRefusal(
      'cohort_ended',
      `cohort ${c.cohort} has ended (${c.phase}${c.abortReason ? `: ${c.abortReason}` : ''}); join the cohort forming now`,
    )
  if (c.phase !== phase)
    throw new SecAggRefusal(
      'wrong_phase',
      `cohort ${c.cohort} is in phase ${c.phase}; ${what} are taken in phase ${phase}`,
    )
}

/** The answer to an accepted message of cohort `c`, with the phase the cohort is in now. */
export const ack = (s: CoordinatorState, c: CohortRecord, duplicate: boolean): SecAggAck => ({
  accepted: true,
  cohort: c.cohort,
  phase: s.cohort.cohort === c.cohort ? s.cohort.phase : c.phase,
  duplicate,
})

/**
 * Each member sends each kind of message once. When it already `sent` one, the same message again (`same`)
 * is acknowledged as a duplicate and a different one refused (`already_sent`, "member 3 already sent
 * `other`…"); undefined when this is the first.
 */
export function repeated(
  s: CoordinatorState,
  c: CohortRecord,
  m: MemberRecord,
  sent: { before: boolean; same: boolean; other: string },
): SecAggAck | undefined {
  if (!sent.before) return undefined
  if (sent.same) return ack(s, c, true)
  throw new SecAggRefusal('already_sent', `member ${m.id} already sent ${sent.other} to cohort ${c.cohort}`)
}
