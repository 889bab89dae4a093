// The storefront's test hooks: how the e2e suite and the QA scenarios drive the page's recommender directly.
import type { Recommender } from '@fedrec/browser'
import type { Learner } from './learner.ts'

/*
 * QA / e2e hooks. Playwright tests drive federated rounds through these instead of clicking around:
 *
 *   await page.goto(`${shop}/?endpoint=${aggregator}&syncEvery=0&syncAfter=0#/`)
 *   await page.evaluate(async () => {
 *     await window.fedrecReady
 *     await window.fedrec!.track({ type: 'purchase', itemId: 'sku-kitchen-007' })
 *     return window.fedrec!.sync()            // → SyncReport
 *   })
 *
 * - `window.fedrecReady: Promise<void>` exists from the first script tick; it resolves once the recommender
 *   is created and rejects with the library's error if it cannot be (no IndexedDB, no Worker, ...).
 * - `window.fedrec: Recommender` is set just before `fedrecReady` resolves. It is the @fedrec/browser API,
 *   routed through the shop so the page keeps up: `track()` counts towards the background sync (turn that
 *   off with `?syncAfter=0`, and the timer with `?syncEvery=0`, to control rounds exactly) and each `sync()`
 *   redraws the "Recommended for you" rows.
 */
declare global {
  interface Window {
    fedrec?: Recommender
    fedrecReady: Promise<void>
  }
}

/** Publishes the learner's recommender on `window` for tests. */
export function exposeForQa(learner: Learner): void {
  window.fedrecReady = learner.ready.then(() => {
    window.fedrec = learner.recommender
  })
  // A failed start is already shown and warned about; tests that await it still see the rejection.
  window.fedrecReady.catch(() => undefined)
}
