/** The learner's public shape: its status, its change notices, and what the pages call. */
import type {
  createRecommender,
  Recommendation,
  Recommender,
  RerankOptions,
  RerankResult,
  StoredEvent,
  SyncReport,
  TrackEvent,
} from '@fedrec/browser'

/** What the status line and the "Your data" page show. */
export interface LearnerStatus {
  phase: 'starting' | 'ready' | 'unavailable'
  /** The shopper turned learning off: nothing is recorded and nothing is synced. */
  paused: boolean
  syncing: boolean
  lastReport: SyncReport | null
  lastSyncAt: number | null
  /** Why learning is not happening, one short sentence for the status line; null when all is well. */
  problem: string | null
}

/** `status`: the status line should be redrawn; `recommendations`: the model or the history changed. */
export type LearnerChange = 'status' | 'recommendations'

/**
 * The shop's side of @fedrec/browser: one recommender, background sync on a cadence, and a status the page
 * can show. Nothing here blocks the page: tracking is fire-and-forget, syncs run in the library's worker,
 * and every failure becomes a status line and a console.warn, never an uncaught rejection.
 */
export interface Learner {
  /** The aggregator's base URL (the widget's degraded mode reads popular items from it directly). */
  readonly endpoint: string
  /** The shop's name in a model several shops share (`?shop=`), for the widget's degraded mode too. */
  readonly shop?: string
  /** Resolves once the recommender exists; rejects (handled) if this browser cannot run it. */
  readonly ready: Promise<void>
  /**
   * The recommender as a customer's code would use it, routed through this learner so that the page keeps
   * up: `track()` counts towards the background sync, and every `sync()` redraws recommendations.
   */
  readonly recommender: Recommender
  status(): LearnerStatus
  /** Records an event in the background (skipped while paused or unavailable). */
  track(event: TrackEvent): void
  /** Top-k recommendations; [] before the first model, while unavailable, or on error (warned). */
  recommend(k: number): Promise<Recommendation[]>
  /**
   * A list the shop already has, ordered for this shopper on this device; null while learning is paused
   * (the shopper asked for nothing to be learned, so nothing is personalised either), while unavailable, or
   * on error (warned): the caller shows its own order then.
   */
  rerank(itemIds: readonly string[], options: RerankOptions): Promise<RerankResult | null>
  history(): Promise<StoredEvent[]>
  /** Runs a round now; resolves with the report or rejects with the library's error. */
  syncNow(): Promise<SyncReport>
  setPaused(paused: boolean): void
  forget(): Promise<void>
  /** Calls `listener` on every change until `signal` aborts. */
  subscribe(listener: (change: LearnerChange) => void, signal?: AbortSignal): void
}

export interface LearnerOptions {
  /** Where the pause switch is remembered (localStorage in the page). */
  storage?: Storage | null
  /** Stand-in for createRecommender (tests). */
  create?: typeof createRecommender
}
