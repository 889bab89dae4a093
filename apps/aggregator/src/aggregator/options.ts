// The aggregator's settings and their defaults, shared by `createAggregator`, the CLI and the tests.
import { DEFAULT_CLIENT_SETTINGS, type RowNormalization, type ServerOptimizerName } from '@fedrec/core/server'
import type { SecAggConfig, UpdateDtype } from '@fedrec/protocol'
import type { CatalogueEntry } from '../catalogue.ts'
import type { NormPolicy } from './norm-bound.ts'

/**
 * Everything `createAggregator` needs. Only `store` is required; the defaults are the CLI's.
 * @example const options: AggregatorOptions = { store: ':memory:', catalogue: ['sku-1', 'sku-2'], minClients: 2 }
 */
export interface AggregatorOptions {
  /** SQLite file (its directory is created), or `':memory:'` for tests. */
  store: string
  /**
   * Create the store when the file does not exist (default true for the library; the CLI passes it only
   * with `--init`, or for its default path). A missing store without it is a StartupError.
   */
  createStore?: boolean
  /**
   * Item ids, or ids with their feature strings (parseCatalogue). A fresh store's model starts with them; on
   * an existing store, ids it does not know yet are queued and join the model when the current round closes.
   */
  catalogue?: readonly CatalogueEntry[]
  /**
   * F: a fresh model gets an item-feature table of this many rows (core's DEFAULT_FEATURE_ROWS is a good
   * start), and the catalogue's features hash into it; absent: an id-only model, features are ignored. An
   * existing store must have the same if it is given.
   */
  featureRows?: number
  /**
   * With item features: false hands clients `negativesOnFeatures` in the round config, so a sampled negative
   * trains the shared feature rows only, not its own id row and bias (default true: the plain gradient). The
   * store's model must have a feature table.
   */
  negativeIdRows?: boolean
  /** Embedding width of a fresh model (default 32); an existing store must have the same if it is given. */
  dim?: number
  /** Seed of the initialisation of a fresh model and of rows added later (default: random, kept in the store). */
  seed?: number
  /** Quorum: the round closes as soon as this many updates are accepted (default 3). */
  minClients?: number
  /** A round closes at the latest this many seconds after it opened (default 300). */
  roundDeadlineSeconds?: number
  /** Client training settings handed out in every RoundInfo. */
  mu?: number
  localEpochs?: number
  learningRate?: number
  negativesPerPositive?: number
  batchSize?: number
  /** Largest n_k accepted from one client (default 100,000). */
  maxSampleCount?: number
  /**
   * Row padding handed to clients: pseudo-items per real item in every upload, so the rows it touches do not
   * give a shopper's history away (default 0: none; docs/privacy.md has the measurements).
   */
  padRatio?: number
  /**
   * How clients should encode their deltas (round config `updateDtype`; default 'f16': float16, half the
   * bytes of 'f32'). Both are accepted from any client whatever this says: old clients send float32.
   */
  updateDtype?: UpdateDtype
  /**
   * Largest `users` one evaluation report may claim (default 1: a client — the simulator today — reports one
   * shopper per report). Reports are unauthenticated, so one claiming many users would outweigh the rest.
   */
  maxEvaluationUsers?: number
  /**
   * Bound on the L2 norm of one client's update (default {@link DEFAULT_MAX_UPDATE_NORM}; Infinity: no bound).
   */
  maxUpdateNorm?: number
  /**
   * Robust aggregation by per-row clipping: each item row of an update (its embedding row and bias together)
   * is scaled down to this L2 norm before the update norm bound (default Infinity: off).
   */
  maxRowNorm?: number
  /** What happens to an update above `maxUpdateNorm` (default 'clip'). */
  normPolicy?: NormPolicy
  /**
   * How long the acks of a closed round are kept for late retries, in seconds (default 86,400). Older ones
   * are pruned when a round closes, so the store does not grow with every update ever received.
   */
  ackRetentionSeconds?: number
  /**
   * For how many published versions the changed rows are kept (default 32), so a client that is at most
   * that many versions behind downloads only what changed (`GET /v1/model?since=`); 0 = always the whole model.
   */
  modelLogVersions?: number
  /**
   * DP-FedAvg's noise multiplier σ > 0: Gaussian noise of standard deviation σ·`dpClipNorm` is added to every
   * coordinate of each round's summed update (docs/privacy.md). null or absent (the default): DP off.
   */
  dpNoiseMultiplier?: number | null
  /** DP-FedAvg's clip norm S: the largest L2 norm of one client's update (clients and server clip). */
  dpClipNorm?: number
  /** The δ at which ε is reported (default 1e-5). */
  dpDelta?: number
  /**
   * Estimated number of shoppers; the accountant then assumes each round samples a shopper with probability
   * q = minClients / population. null or absent: q = 1, no amplification by sampling is claimed.
   */
  dpPopulation?: number | null
  serverOptimizer?: ServerOptimizerName
  /**
   * η of the server optimizer. Default: the optimizer's own — 1 for fedavg and fedavgm (1 with fedavg is
   * plain FedAvg), 0.01 for fedadam, fedyogi and fedadagrad, whose steps do not scale with the delta.
   */
  serverLearningRate?: number | undefined
  /**
   * Default 'touched' (measured: on the REES46 sessions 'all' fell to popularity's level), or 'all' when DP
   * is on: DP cannot divide a row by who touched it, a number that depends on the data.
   */
  rowNormalization?: RowNormalization
  /**
   * Under 'touched': an item row (id embedding and bias) is divided by no less than this many mean clients'
   * weight of the round (core's `RowFloor`), so a product one or two shoppers touched moves by a share of
   * their delta, not all of it; with a quorum below it, item rows are averaged over every client ('all').
   * 0: plain 'touched'. No effect under 'all'. Default: core's `DEFAULT_ITEM_ROW_FLOOR` (50) for a model with
   * item features, 0 for an id-only one (docs/simulator.md "Damping rarely touched rows").
   */
  itemRowFloor?: number | undefined
  /**
   * Secure aggregation (Bonawitz et al. 2017): rounds close through cohorts of clients whose masked inputs
   * only reveal their sum; plain updates are refused. Default: off.
   */
  secureAggregation?: SecAggConfig | undefined
  /** Milliseconds since the epoch; injectable so tests can move time. */
  now?: () => number
  /** Close rounds on their deadline with a timer (default true); tests may call `checkDeadline()` instead. */
  deadlineTimer?: boolean
}

/** The options with every default filled in. */
export type ResolvedOptions = Required<
  Omit<
    AggregatorOptions,
    'catalogue' | 'dim' | 'featureRows' | 'seed' | 'serverLearningRate' | 'secureAggregation' | 'itemRowFloor'
  >
> &
  Pick<
    AggregatorOptions,
    'catalogue' | 'dim' | 'featureRows' | 'seed' | 'serverLearningRate' | 'secureAggregation' | 'itemRowFloor'
  >

/**
 * Default DP clip norm S: about the 90th percentile of client update norms on MovieLens-100K with the
 * default client settings (median 51, p90 108); clipping at the median cost more accuracy than the noise
 * did. docs/privacy.md has the measurement.
 */
const DP_CLIP_NORM = 100

/**
 * Default bound on one update's L2 norm (clip). An honest update's norm grows with the rows it touches: on
 * MovieLens-100K with the default client settings the largest of 943 uploads was 150.5 (round 1; median
 * 35.2), and it falls in later rounds. The bound sits above every honest upload measured, so it costs them
 * nothing (HR@10 identical over 5 rounds), and caps what one client can move the model by
 * (docs/aggregator.md, "Bounding one client's influence").
 */
export const DEFAULT_MAX_UPDATE_NORM = 500

/** The CLI's defaults, in one place. */
export const DEFAULTS = {
  minClients: 3,
  roundDeadlineSeconds: 300,
  // The client settings are core's, the same defaults the browser library and the simulator use, measured on
  // MovieLens-100K, Online Retail and the REES46 clickstream (docs/simulator.md).
  mu: DEFAULT_CLIENT_SETTINGS.mu,
  localEpochs: DEFAULT_CLIENT_SETTINGS.localEpochs,
  learningRate: DEFAULT_CLIENT_SETTINGS.learningRate,
  negativesPerPositive: DEFAULT_CLIENT_SETTINGS.negativesPerPositive,
  batchSize: DEFAULT_CLIENT_SETTINGS.batchSize,
  maxSampleCount: 100_000,
  padRatio: 0,
  negativeIdRows: true,
  updateDtype: 'f16',
  maxEvaluationUsers: 1,
  maxUpdateNorm: DEFAULT_MAX_UPDATE_NORM,
  maxRowNorm: Number.POSITIVE_INFINITY,
  normPolicy: 'clip',
  ackRetentionSeconds: 86_400,
  modelLogVersions: 32,
  serverOptimizer: 'fedavg',
  rowNormalization: 'touched',
  dpNoiseMultiplier: null,
  dpClipNorm: DP_CLIP_NORM,
  dpDelta: 1e-5,
  dpPopulation: null,
} as const satisfies Partial<AggregatorOptions>

/** Fills in the defaults. */
export function resolveOptions(options: AggregatorOptions): ResolvedOptions {
  return {
    ...DEFAULTS,
    now: Date.now,
    deadlineTimer: true,
    createStore: true,
    ...(options.dpNoiseMultiplier != null ? { rowNormalization: 'all' as const } : {}),
    ...withoutUndefined(options),
    store: options.store,
  }
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
