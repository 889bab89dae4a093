/**
 * The storefront's learner: one explicit state (learner/state.ts) and a file per job — starting the
 * recommender (start.ts), rounds (sync.ts), the pause switch (pause.ts), the routed recommender and erasing
 * (routed-recommender.ts) — wired here.
 * @module
 */
import { createRecommender } from '@fedrec/browser'
import { applyPaused, readPaused } from './learner/pause.ts'
import { forget, routedRecommender } from './learner/routed-recommender.ts'
import { startRecommender } from './learner/start.ts'
import { createLearnerState, warnOnce } from './learner/state.ts'
import { runSync } from './learner/sync.ts'
import { errorKey } from './learner/sync-error.ts'
import type { Learner, LearnerOptions } from './learner/types.ts'
import type { StorefrontSettings } from './settings.ts'

export { describeSyncError } from './learner/sync-error.ts'
export type { Learner, LearnerChange, LearnerOptions, LearnerStatus } from './learner/types.ts'

/**
 * Creates the learner and starts its recommender at once.
 * @example const learner = createLearner({ endpoint, syncEverySeconds: 60, syncAfterEvents: 5 })
 */
export function createLearner(
  settings: StorefrontSettings,
  { storage = null, create = createRecommender }: LearnerOptions = {},
): Learner {
  const state = createLearnerState({
    settings,
    storage,
    paused: readPaused(storage),
    created: create({
      endpoint: settings.endpoint,
      ...(settings.backends ? { backends: settings.backends } : {}),
      ...(settings.shop ? { shop: settings.shop } : {}),
    }),
  })
  startRecommender(state)
  const recommender = routedRecommender(state)
  const { status } = state

  return {
    endpoint: settings.endpoint,
    ...(settings.shop ? { shop: settings.shop } : {}),
    ready: state.ready.then(() => undefined),
    recommender,
    status: () => ({ ...status }),
    track(event) {
      if (status.paused || status.phase === 'unavailable') return
      recommender
        .track(event)
        .catch((err: unknown) => warnOnce(state, `track:${errorKey(err)}`, 'could not record an event:', err))
    },
    async recommend(k) {
      if (status.phase === 'unavailable') return []
      try {
        return await recommender.recommend({ k })
      } catch (err) {
        warnOnce(state, `recommend:${errorKey(err)}`, 'recommendations unavailable for now:', err)
        return []
      }
    },
    async rerank(itemIds, options) {
      if (status.paused || status.phase === 'unavailable') return null
      try {
        return await recommender.rerank(itemIds, options)
      } catch (err) {
        warnOnce(state, `rerank:${errorKey(err)}`, 'personal ordering unavailable for now:', err)
        return null
      }
    },
    history: () => (status.phase === 'unavailable' ? Promise.resolve([]) : recommender.history()),
    syncNow: () => runSync(state),
    setPaused(paused) {
      applyPaused(state, paused)
      state.rec
        ?.setPaused(paused)
        .catch((err: unknown) => warnOnce(state, 'pause', 'could not store the pause switch:', err))
    },
    forget: () => forget(state),
    subscribe(listener, signal) {
      state.listeners.add(listener)
      signal?.addEventListener('abort', () => state.listeners.delete(listener), { once: true })
    },
  }
}
