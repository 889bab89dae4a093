// The cohort state machine: advertise → share → mask → unmask → done, or aborted when too few are left.
import { isSecAggError } from '@fedrec/core/server'
import { abort, arm, followRound, openCohort, setPhase } from './cohort-lifecycle.ts'
import type { CoordinatorState } from './coordinator-state.ts'
import { finish } from './finish.ts'
import { replay, replayFromStore } from './replay.ts'
import type { MemberRecord } from './store.ts'

/**
 * Moves the cohort to its next phase when everybody expected has answered, or when `deadline` says the
 * phase is over; aborts it when too few are left. Returns true when it moved.
 */
export async function advance(s: CoordinatorState, deadline: boolean): Promise<boolean> {
  const members = await s.db.members(s.cohort.cohort)
  try {
    return await step(s, members, deadline)
  } catch (err) {
    if (isSecAggError(err)) {
      // cohort_too_small, too_few_survivors: nothing can be reconstructed from this cohort.
      await replay(s, s.cohort)
      await abort(s, `${err.code}: ${err.message}`)
      return true
    }
    // A failed write: the store still holds the previous phase; rebuild from it and try again later.
    await replayFromStore(s)
    throw err
  }
}

/** One move of `advance`, by the cohort's phase; `members` are the cohort's members now. */
async function step(
  s: CoordinatorState,
  members: readonly MemberRecord[],
  deadline: boolean,
): Promise<boolean> {
  const { host } = s
  const { config } = host
  switch (s.cohort.phase) {
    case 'advertise': {
      const full = members.length >= config.maxCohort
      if (!full && !deadline) return false
      if (members.length === 0) {
        // Nobody came: keep waiting instead of churning through empty cohorts.
        await setPhase(s, 'advertise')
        return false
      }
      if (members.length < config.minCohort) {
        await abort(s, `only ${members.length} of the ${config.minCohort} members needed joined in time`)
        return true
      }
      await host.store.transaction(async (tx) => {
        s.roster = s.server.closeAdvertise()
        await setPhase(s, 'share', tx.secAgg)
      })
      return true
    }
    case 'share': {
      if (!deadline && !members.every((m) => m.shared)) return false
      await host.store.transaction(async (tx) => {
        s.server.closeShare()
        await setPhase(s, 'mask', tx.secAgg)
      })
      return true
    }
    case 'mask': {
      const u2 = members.filter((m) => m.shared)
      if (!deadline && !u2.every((m) => m.uploaded)) return false
      await host.store.transaction(async (tx) => {
        s.unmaskRequest = s.server.closeMask()
        await setPhase(s, 'unmask', tx.secAgg)
      })
      return true
    }
    case 'unmask': {
      if (s.server.canFinish) {
        // Runs on its own (the reconstruction takes a while) and takes the lock for the close itself.
        void finish(s)
        return true
      }
      if (deadline) {
        await abort(s, `too few members answered the unmasking request in time (need ${s.roster?.threshold})`)
        return true
      }
      return false
    }
    case 'done':
    case 'aborted':
      await openCohort(s)
      return true
    default: {
      const never: never = s.cohort.phase
      throw new Error(`unknown phase ${String(never)}`)
    }
  }
}

/** Moves the cohort on if its phase deadline has passed (the timer calls it). */
export async function checkDeadline(s: CoordinatorState): Promise<void> {
  // A reconstruction under way decides the cohort's end itself; the caller may wait for `s.finishing`.
  if (s.closed || s.finishing) return
  await followRound(s)
  if (s.host.now() < Date.parse(s.cohort.phaseDeadline)) {
    arm(s)
    return
  }
  await advance(s, true)
}
