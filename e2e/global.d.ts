// What the demo storefront exposes to QA tests (see apps/storefront): the recommender and its readiness.
import type { Recommender } from '@fedrec/browser'

declare global {
  interface Window {
    fedrec: Recommender
    fedrecReady: Promise<void>
  }
}
