/** Starting the recommender: the phase it reaches, the pause switch agreed with the library's, and the sync cadence. */
import { applyPaused } from './pause.ts'
import { emit, type LearnerState } from './state.ts'
import { requestSync } from './sync.ts'

/** Records in the status how the start of `state.ready` ends, and from then on syncs on the cadence. */
export function startRecommender(state: LearnerState): void {
  const { status, settings } = state
  state.ready = state.ready.then(
    (created) => {
      state.rec = created
      status.phase = 'ready'
      emit(state, 'status')
      // The library remembers the pause switch too (its widget's privacy panel can flip it): agree with it.
      created.localData().then(
        (data) => {
          if (status.paused && !data.paused) void created.setPaused(true).catch(() => undefined)
          else if (data.paused && !status.paused) applyPaused(state, true)
        },
        () => undefined,
      )
      if (settings.syncEverySeconds > 0)
        state.timer = setInterval(() => requestSync(state), settings.syncEverySeconds * 1000)
      return created
    },
    (err: unknown) => {
      status.phase = 'unavailable'
      status.problem = 'Personal recommendations are unavailable in this browser'
      console.warn('[storefront] could not start the recommender:', err)
      emit(state, 'status')
      throw err
    },
  )
  // The rejection is reported above; later awaits still see it, but it is never "unhandled".
  state.ready.catch(() => undefined)
}
