/** The recommender as the page's code uses it, routed through the learner so the status and the rows keep up. */
import type { Recommender } from '@fedrec/browser'
import { applyPaused } from './pause.ts'
import { emit, type LearnerState, refreshRecommendations } from './state.ts'
import { afterTrack, runSync } from './sync.ts'

/** Erases everything the recommender stored, then redraws the status and the rows. */
export async function forget(state: LearnerState): Promise<void> {
  const r = await state.ready
  await r.forget()
  state.eventsSinceSync = 0
  state.status.lastReport = null
  state.status.lastSyncAt = null
  emit(state, 'status')
  refreshRecommendations(state)
}

/**
 * A Recommender that waits for the real one: `track()` counts towards the background sync, `sync()` and
 * `forget()` update the status, `setPaused()` the remembered switch, and `close()` stops the cadence.
 */
export function routedRecommender(state: LearnerState): Recommender {
  return {
    async track(event) {
      const r = await state.ready
      await r.track(event)
      afterTrack(state, event)
    },
    sync: () => runSync(state),
    recommend: async (options) => (await state.ready).recommend(options),
    suggest: async (request) => (await state.ready).suggest(request),
    rerank: async (itemIds, options) => (await state.ready).rerank(itemIds, options),
    localData: async () => (await state.ready).localData(),
    async setPaused(paused) {
      await (await state.ready).setPaused(paused)
      applyPaused(state, paused)
    },
    history: async () => (await state.ready).history(),
    forget: () => forget(state),
    backend: async () => (await state.ready).backend(),
    close() {
      clearInterval(state.timer)
      state.rec?.close()
      state.rec = null
      state.status.phase = 'unavailable'
      state.status.problem = 'Learning stopped'
      emit(state, 'status')
    },
  }
}
