// What the benchmark page offers its driver (e2e/bench/browser.ts) on `window.bench`. Types only.
import type { Recommendation, RecommenderOptions, SyncReport, TrackEvent } from '@fedrec/browser'

/** Long tasks (> 50 ms) on the page's main thread that overlapped one call. */
export interface LongTasks {
  count: number
  totalMs: number
  maxMs: number
}

/** A call's result, its wall time as the page saw it, and the long tasks during it. */
export interface Measured<T> {
  value: T
  ms: number
  longTasks: LongTasks
}

/** `createRecommender()` to the first `recommend()` result. */
export interface StartupTiming {
  createMs: number
  firstRecommendationMs: number
  items: number
  backend: string
  longTasks: LongTasks
}

/** What the bench-only profile worker is asked: one client round on `backend` against the live model. */
export interface ProfileRequest {
  backend: string
  endpoint: string
  events: TrackEvent[]
}

/** Where a client round's training time goes (page/profile-worker.ts). */
export interface TrainingProfile {
  backend: string
  samples: number
  /** Optimiser steps of the round: the training pass and the user-vector refit. */
  steps: number
  /** Median wall time of the round's training (trainClientRound), ms. */
  wallMs: number
  /** tfjs kernels the round launched. */
  kernels: number
  /** The most launched kernels, with their counts. */
  topKernels: [string, number][]
  /** Wall time of one bare kernel launch ([256, 1] elementwise), ms. */
  launchMs: number
  /** Wall time of one small upload (256 int32), ms. */
  uploadMs: number
}

export interface BenchApi {
  /** Bench-only: profiles one client round in a separate worker (see page/profile-worker.ts). */
  profileTraining(request: ProfileRequest): Promise<TrainingProfile>
  /** Creates the recommender (closing any earlier one); its wall time in ms. Nothing is downloaded yet. */
  create(options: RecommenderOptions): Promise<number>
  /** Creates the recommender (closing any earlier one) and waits for its first recommendations. */
  startup(options: RecommenderOptions): Promise<StartupTiming>
  track(events: TrackEvent[]): Promise<Measured<void>>
  sync(): Promise<Measured<SyncReport>>
  recommend(k: number): Promise<Measured<Recommendation[]>>
  /** The baseline of `recommend()`: the same scoring in plain JS on the main thread; times in ms. */
  plainScoring(endpoint: string, k: number, repeats: number): Promise<number[]>
  close(): void
}

declare global {
  interface Window {
    bench: BenchApi
  }
}
