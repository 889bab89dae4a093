// What the browser benchmark (browser.ts) measures and returns: its options and one result type per figure.
import type { SyncPhases } from '@fedrec/browser'
import type { BackendName } from '../kit/shopper.ts'
import type { LongTasks, StartupTiming, TrainingProfile } from './page/api.ts'

export type BrowserSection = 'training' | 'recommend' | 'bandwidth' | 'startup'

export interface BrowserBenchOptions {
  sections: ReadonlySet<BrowserSection>
  backends: BackendName[]
  /** Catalogue sizes of figures 3, 4 and 7. */
  catalogues: number[]
  /** Catalogue size of figure 1. */
  trainingCatalogue: number
  /** History lengths of figure 1. */
  histories: number[]
  /** History lengths of figure 4 ("typical shoppers"). */
  bandwidthHistories: number[]
  /** History length of the shopper of figures 3 and 7. */
  recommendHistory: number
  /** Measured syncs per shopper in figure 1, after the first (which compiles shaders). */
  rounds: number
  /** `recommend()` calls measured per backend and catalogue in figure 3. */
  recommendRepeats: number
  /** Port of the benchmark page. */
  port: number
  log: (line: string) => void
}

/** One `sync()` as the page saw it. */
export interface SyncSample {
  ms: number
  backend: string
  samples: number
  uploaded: boolean
  modelVersion: number
  bytesUp: number
  bytesDown: number
  phases: SyncPhases | null
  longTasks: LongTasks
  /** Response bodies of GET /v1/model (or a patch of it) during this sync. */
  modelBytes: number
  /** Every request the sync made (the worker's included), with its status and response body size. */
  requests: RecordedRequest[]
}

export interface RecordedRequest {
  method: string
  path: string
  /** null until it finished (or when it failed). */
  status: number | null
  bytes: number
}

export interface TrainingResult {
  backend: BackendName
  events: number
  catalogue: number
  /** The first sync of a fresh page: the model download and, on WebGL, shader compilation. */
  first: SyncSample
  /** The next syncs (each on the model the previous one changed). */
  rounds: SyncSample[]
  medianMs: number
  medianPhases: SyncPhases | null
  samples: number
  /** n_k over the median training phase, in samples per second (each sample trained `localEpochs` times). */
  samplesPerSecond: number
  track: { ms: number; longTasks: LongTasks }
}

export interface RecommendResult {
  backend: BackendName
  catalogue: number
  latenciesMs: number[]
  medianMs: number
  p90Ms: number
  /** The baseline in the same page: the same scoring in plain JS on the main thread. */
  plainJsMedianMs: number
  longTasks: LongTasks
}

export interface BandwidthResult {
  catalogue: number
  events: number
  backend: BackendName
  /** A full model download (GET /v1/model) at this catalogue. */
  denseModelBytes: number
  /** A shopper's first sync: nothing cached. */
  first: SyncSample
  /** The next sync, on the model the first one changed. */
  changed: SyncSample
  /** A sync on the model already cached (downloaded by an earlier visit). */
  unchanged: SyncSample
}

export interface StartupResult {
  backend: BackendName
  catalogue: number
  /** A fresh browser profile: no IndexedDB, nothing cached; the model is downloaded. */
  cold: StartupTiming
  /** The same profile, page reloaded: the model comes from IndexedDB. */
  warm: StartupTiming
}

export interface BrowserBenchResults {
  chromium: string
  training: TrainingResult[]
  /** Figure 1's breakdown of the training phase: kernels launched against the cost of one launch. */
  profiles: TrainingProfile[]
  recommend: RecommendResult[]
  bandwidth: BandwidthResult[]
  startup: StartupResult[]
}

/**
 * Runs the browser figures that `options.sections` asks for.
 * @example const results = await runBrowserBench({ ...options, sections: new Set(['training']) })
 */
