// `GET …/me`: what one member needs for its cohort's current phase.
import type { SecAggView } from '@fedrec/protocol'
import { followRound } from './cohort-lifecycle.ts'
import { protocol } from './commit.ts'
import type { CoordinatorState } from './coordinator-state.ts'
import { member } from './member-checks.ts'

/** The member's view of its cohort: the roster, its inbox, or the survivors, by phase. */
export async function view(
  s: CoordinatorState,
  number: number,
  token: string | undefined,
): Promise<SecAggView> {
  await followRound(s)
  const { c, m } = await member(s, number, token)
  const live = c.cohort === s.cohort.cohort ? s.cohort : c
  const running = live === s.cohort
  const answer: SecAggView = {
    cohort: live.cohort,
    sessionId: live.sessionId,
    round: live.round,
    // Round r always trains on model version r.
    modelVersion: live.round,
    phase: live.phase,
    phaseDeadline: live.phaseDeadline,
    threshold: running ? (s.roster?.threshold ?? 0) : 0,
    id: m.id,
    shared: m.shared,
    uploaded: m.uploaded,
    unmasked: m.unmasked,
    ...(live.abortReason ? { abortReason: live.abortReason } : {}),
  }
  if (!running) return answer
  if (live.phase === 'share' && s.roster)
    answer.roster = s.roster.clients.map(({ id, cPublicKey, sPublicKey }) => ({ id, cPublicKey, sPublicKey }))
  if (live.phase === 'mask' && m.shared && !m.uploaded)
    answer.inbox = protocol(() => s.server.inbox(m.id)).shares.map(({ from, iv, ciphertext }) => ({
      from,
      iv,
      ciphertext,
    }))
  if (live.phase === 'unmask' && s.unmaskRequest) {
    answer.survivors = s.unmaskRequest.survivors
    answer.dropped = s.unmaskRequest.dropped
  }
  return answer
}
