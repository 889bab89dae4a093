// Secure aggregation's coordinator: a thin facade over the cohort state (coordinator-state.ts), its state
// machine (advance.ts, cohort-lifecycle.ts, finish.ts), replay (replay.ts) and member requests.
import type {
  SecAggAck,
  SecAggJoin,
  SecAggJoinAck,
  SecAggShares,
  SecAggState,
  SecAggUnmask,
  SecAggView,
} from '@fedrec/protocol'
import { checkDeadline } from './advance.ts'
import { abort, followRound } from './cohort-lifecycle.ts'
import type { SecAggHost } from './coordinator-state.ts'
import { join } from './join.ts'
import { masked, shares, unmask } from './member-messages.ts'
import { view } from './member-view.ts'
import { resume } from './replay.ts'
import { secAggStore } from './store.ts'

export type { SecAggHost } from './coordinator-state.ts'

/**
 * Secure aggregation for the open round: one cohort at a time runs Bonawitz et al.'s four phases; a cohort
 * that completes closes the round with its unmasked sum; one that aborts (too few members, too few
 * survivors, a phase deadline, the round closing under it) is followed by a fresh cohort of the same round.
 *
 * Durable and resumable: every accepted message is in the store before it is acknowledged, phase changes
 * too, and a restart rebuilds the cohort's protocol state by replaying them — the members' clients, which
 * hold their secrets in memory, carry on polling as if the server had only been slow.
 */
export interface SecAggCoordinator {
  /** `GET /v1/secagg`: the cohort forming or running now. */
  state(): Promise<SecAggState>
  /** AdvertiseKeys: joins the forming cohort. Durable before it resolves. */
  join(body: SecAggJoin): Promise<SecAggJoinAck>
  /** `GET …/me`: what this member needs for the current phase. */
  view(cohort: number, token: string | undefined): Promise<SecAggView>
  /** ShareKeys. */
  shares(cohort: number, token: string | undefined, body: SecAggShares): Promise<SecAggAck>
  /** MaskedInputCollection (binary body). */
  masked(cohort: number, token: string | undefined, bytes: Uint8Array): Promise<SecAggAck>
  /** Unmasking; once t members answered, the sum is reconstructed and the round closed. */
  unmask(cohort: number, token: string | undefined, body: SecAggUnmask): Promise<SecAggAck>
  /**
   * Aborts the running cohort (an operator reset of its round); a fresh one forms. Called by the aggregator
   * in a section of its lock, so it does not take the lock itself.
   */
  abortCohort(reason: string): Promise<void>
  /**
   * True when the client (salted hash) is in the sum that closed `round`: what an evaluation report of a
   * secure-aggregated round is bound to. Known until its cohort's members are forgotten (a day after).
   */
  tookPart(round: number, clientHash: string): Promise<boolean>
  /** Moves the cohort on if its phase deadline has passed (the timer calls it). */
  checkDeadline(): Promise<void>
  /** Stops the timer; a reconstruction in progress no longer closes the round. */
  close(): void
}

/**
 * Starts (or resumes, from the store) secure aggregation on an aggregator's store. Every request runs in a
 * section of the host's lock (`host.serial`): even a read may abort a cohort its round closed under.
 * @example const secagg = await createSecAggCoordinator({ store, serial, salt, config, now: Date.now, timers: true, current, complete })
 */
export async function createSecAggCoordinator(host: SecAggHost): Promise<SecAggCoordinator> {
  const { serial } = host
  const deadline = async (): Promise<void> => {
    await serial('secure-aggregation deadline', () => checkDeadline(s))
    // The reconstruction takes the lock for its close itself: waited for outside the section.
    if (s.finishing) await s.finishing
  }
  const s = await resume(host, secAggStore(host.store), deadline)
  return {
    state: () =>
      serial('secure-aggregation state', async () => {
        await followRound(s)
        const { cohort } = s
        return {
          round: cohort.round,
          modelVersion: host.current().modelVersion,
          cohort: cohort.cohort,
          sessionId: cohort.sessionId,
          phase: cohort.phase,
          phaseDeadline: cohort.phaseDeadline,
          members: (await s.db.members(cohort.cohort)).length,
          config: host.config,
          ...(cohort.abortReason ? { abortReason: cohort.abortReason } : {}),
        }
      }),
    join: (body) => serial('secure-aggregation join', () => join(s, body)),
    view: (cohort, token) => serial('secure-aggregation view', () => view(s, cohort, token)),
    shares: (cohort, token, body) =>
      serial('secure-aggregation shares', () => shares(s, cohort, token, body)),
    masked: (cohort, token, bytes) =>
      serial('secure-aggregation masked input', () => masked(s, cohort, token, bytes)),
    async unmask(cohort, token, body) {
      const answer = await serial('secure-aggregation unmask', () => unmask(s, cohort, token, body))
      // The answer that completed the cohort is sent once the round has closed with its sum.
      if (s.finishing) await s.finishing
      return answer
    },
    async abortCohort(reason) {
      if (s.finishing) return // its sum is being unmasked: the round closes with it
      await abort(s, reason)
    },
    tookPart: (round, clientHash) => s.db.contributed(round, clientHash),
    checkDeadline: deadline,
    close() {
      s.closed = true
      if (s.timer) clearTimeout(s.timer)
    },
  }
}
