/** The learner's one state object (what the closure's variables were) and the small helpers every job uses. */
import type { Recommender } from '@fedrec/browser'
import type { StorefrontSettings } from '../settings.ts'
import type { LearnerChange, LearnerStatus } from './types.ts'

/** Everything the learner's jobs share. */
export interface LearnerState {
  readonly settings: StorefrontSettings
  /** Where the pause switch is remembered, or null. */
  readonly storage: Storage | null
  /** Mutated in place; `Learner.status()` hands out copies. */
  readonly status: LearnerStatus
  readonly listeners: Set<(change: LearnerChange) => void>
  /** Warning keys already logged (see warnOnce). */
  readonly warned: Set<string>
  /**
   * The recommender once it started; rejects (handled) if this browser cannot run it. startRecommender()
   * replaces the bare creation promise with one that also records the phase.
   */
  ready: Promise<Recommender>
  /** The started recommender, null before it starts and after close(). */
  rec: Recommender | null
  /** Events tracked since the last round began (a round is due after `settings.syncAfterEvents`). */
  eventsSinceSync: number
  syncsInFlight: number
  /** The running background round, or null: there is never more than one. */
  backgroundSync: Promise<unknown> | null
  /** The sync cadence (`settings.syncEverySeconds`). */
  timer: ReturnType<typeof setInterval> | undefined
  refreshTimer: ReturnType<typeof setTimeout> | undefined
}

/** A learner state with the recommender `created` still starting; `paused` is the remembered switch. */
export function createLearnerState({
  settings,
  storage,
  paused,
  created,
}: {
  settings: StorefrontSettings
  storage: Storage | null
  paused: boolean
  created: Promise<Recommender>
}): LearnerState {
  return {
    settings,
    storage,
    status: {
      phase: 'starting',
      paused,
      syncing: false,
      lastReport: null,
      lastSyncAt: null,
      problem: null,
    },
    listeners: new Set(),
    warned: new Set(),
    ready: created,
    rec: null,
    eventsSinceSync: 0,
    syncsInFlight: 0,
    backgroundSync: null,
    timer: undefined,
    refreshTimer: undefined,
  }
}

/** Tells every listener about a change. */
export function emit(state: LearnerState, change: LearnerChange): void {
  for (const listener of state.listeners) listener(change)
}

// Several purchases in a row, or a sync right after one, should redraw the rows once, not per event.
export function refreshRecommendations(state: LearnerState): void {
  clearTimeout(state.refreshTimer)
  state.refreshTimer = setTimeout(() => emit(state, 'recommendations'), 30)
}

/** A console warning, once per key (a failing background job would otherwise warn every round). */
export function warnOnce(state: LearnerState, key: string, message: string, err: unknown): void {
  if (state.warned.has(key)) return
  state.warned.add(key)
  console.warn(`[storefront] ${message}`, err)
}
