// The knobs of one simulation run and their defaults, shared by the CLI, the in-process run and the HTTP run.
import { DEFAULT_CLIENT_SETTINGS, DEFAULT_FEATURE_ROWS } from '@fedrec/core/client'
import type { RowNormalization, ServerOptimizerName } from '@fedrec/core/server'
import type { UpdateDtype } from '@fedrec/protocol'
import type { DatasetFormat } from './datasets/index.ts'

/** Everything one simulation run needs; the CLI fills it from flags and {@link DEFAULTS}. */
export interface SimulationOptions {
  dataset: DatasetFormat
  path: string
  /**
   * The item-metadata file (categories, brand, price, title); undefined: the one the format puts beside
   * the data, if it is there (`itemsFileBeside`). With categories, the run adds the re-ranking table.
   */
  items?: string | undefined
  /**
   * Item features (category, brand, price band, title words from the item metadata) in the federated model:
   * 'on', 'off', or undefined: on where item metadata is found and the run is in-process without secure
   * aggregation (the aggregator's HTTP model is id-only here; secure aggregation masks the feature table
   * when asked with 'on', at 4·F·(2 + d) more bytes per shopper, so by default its runs stay id-only).
   */
  itemFeatures?: 'on' | 'off' | undefined
  /** Rows of the feature table features hash into (core's `DEFAULT_FEATURE_ROWS`). */
  featureRows?: number
  /**
   * With item features: true (default) lets a sampled negative train its own id row and bias too (the plain
   * BPR gradient); false: negatives train the feature rows only (core's `negativesOnFeatures`).
   */
  negativeIdRows?: boolean
  /**
   * New products: the latest-introduced fraction of the items (by first touch) loses its training events and
   * is added after training (`cold-split.ts`); with item features the run adds the cold-start table. In-process.
   */
  coldItems?: number | undefined
  /** With `coldItems`: list the new products during training (drawn as negatives, their id rows drift). */
  coldListed?: boolean
  rounds: number
  /**
   * Shoppers sampled per round, or `'all'` (full participation). In-process only: over HTTP the aggregator's
   * quorum (`--min-clients`) decides.
   */
  clientsPerRound: number | 'all'
  localEpochs: number
  learningRate: number
  /** FedProx μ (0 = FedAvg). */
  mu: number
  batchSize: number
  negativesPerPositive: number
  /** L2 on the trained embedding rows. */
  l2: number
  /** The shopper's state: the last `contextLength` items, each step back worth `recency` (core's `SequenceSettings`). */
  contextLength: number
  recency: number
  /** Keep and train a private per-device vector added to the shopper's state. */
  privateVector: boolean
  /** At most this many next-item examples per shopper and round, drawn at random. */
  maxTargets: number
  serverOptimizer: ServerOptimizerName
  /** Undefined: the optimizer's own default (1 for fedavg/fedavgm, 0.01 for the adaptive ones). */
  serverLearningRate: number | undefined
  rowNormalization: RowNormalization
  /**
   * Under 'touched': an item row (id embedding and bias) is divided by no less than this many mean shoppers'
   * weight (core's `RowFloor`), so a product one or two shoppers touched moves by a share of their delta.
   * 0: plain 'touched'. Undefined: core's `DEFAULT_ITEM_ROW_FLOOR` (50) with item features, 0 id-only. No
   * effect under 'all'. In-process only (an `--endpoint` aggregator has its own flag).
   */
  itemRowFloor: number | undefined
  dim: number
  /** Negatives each held-out item is ranked against (99 in the NCF protocol). */
  evalNegatives: number
  seed: number
  centralEpochs: number
  centralLearningRate: number
  /** L2 of the centralized baseline (per-example Adagrad). */
  centralL2: number
  /** Row padding: pseudo-items per real item in every client's upload (0 = off). In-process only. */
  padRatio: number
  /** Draw each shopper's pseudo-items anew every round instead of from its fixed secret seed. */
  padFresh: boolean
  /** Draw pseudo-items uniformly instead of from the model's prediction (for comparison). */
  padUniform: boolean
  /**
   * How uploads carry their deltas in process (default 'f16': float16, what the aggregator asks browsers for
   * by default); aggregation counts the rounded values. Over HTTP the aggregator's round config decides.
   */
  updateDtype?: UpdateDtype
  /** Run the attack benchmark on every upload (in-process only). */
  attack: boolean
  /** A running aggregator; undefined: in-process aggregation with core's accumulator and optimizer. */
  endpoint: string | undefined
  /**
   * DP-FedAvg (in-process; over HTTP the aggregator's --dp-* flags rule): noise multiplier σ, clip norm S and
   * the δ of the reported ε. Undefined σ: DP off. DP needs `rowNormalization: 'all'`.
   */
  dpNoiseMultiplier?: number | undefined
  dpClipNorm?: number
  dpDelta?: number
  /**
   * The aggregator's influence bounds, applied in process to every decoded upload as the aggregator does
   * (`--max-row-norm`, then `--max-update-norm` with its clip policy). Undefined: no bound.
   */
  maxRowNorm?: number | undefined
  maxUpdateNorm?: number | undefined
  /** Secure aggregation (Bonawitz et al. 2017) of every round's cohort, in process; the attack sees masked uploads. */
  secureAggregation?: boolean
  /** With secure aggregation: probability a participant drops out after sharing keys (before or after upload). */
  secaggDropout?: number
}

/**
 * The defaults: the settings that measured best on MovieLens-100K (docs/simulator.md has the sweep), so that
 * `--dataset movielens --path u.data --rounds 40` is a fair run.
 */
export const DEFAULTS = {
  rounds: 40,
  clientsPerRound: 'all',
  ...DEFAULT_CLIENT_SETTINGS,
  serverOptimizer: 'fedavg',
  serverLearningRate: undefined,
  rowNormalization: 'touched',
  itemRowFloor: undefined,
  dim: 32,
  evalNegatives: 99,
  seed: 1,
  centralEpochs: 10,
  centralLearningRate: 0.05,
  centralL2: 1e-4,
  // The aggregator's default too: docs/privacy.md has the measurement.
  dpClipNorm: 100,
  dpDelta: 1e-5,
  featureRows: DEFAULT_FEATURE_ROWS,
  padRatio: 0,
  padFresh: false,
  padUniform: false,
  updateDtype: 'f16',
  attack: false,
  secureAggregation: false,
  secaggDropout: 0,
} as const satisfies Partial<SimulationOptions>
