import type { RowNormalization, ServerOptimizerName } from '@fedrec/core'
import type { DatasetFormat } from './datasets/index.ts'

/** Everything one simulation run needs; the CLI fills it from flags and {@link DEFAULTS}. */
export interface SimulationOptions {
  dataset: DatasetFormat
  path: string
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
  serverOptimizer: ServerOptimizerName
  /** Undefined: the optimizer's own default (1 for fedavg/fedavgm, 0.01 for the adaptive ones). */
  serverLearningRate: number | undefined
  rowNormalization: RowNormalization
  dim: number
  /** Negatives each held-out item is ranked against (99 in the NCF protocol). */
  evalNegatives: number
  seed: number
  centralEpochs: number
  centralLearningRate: number
  /** Also compute full-ranking Recall@20 at the end. */
  recall: boolean
  /** A running aggregator; undefined: in-process aggregation with core's accumulator and optimizer. */
  endpoint: string | undefined
}

/**
 * The defaults: the settings that measured best on MovieLens-100K (docs/simulator.md has the sweep), so that
 * `--dataset movielens --path u.data --rounds 40` is a fair run.
 */
export const DEFAULTS = {
  rounds: 40,
  clientsPerRound: 'all',
  localEpochs: 2,
  learningRate: 0.3,
  mu: 0,
  batchSize: 256,
  negativesPerPositive: 4,
  serverOptimizer: 'fedavg',
  serverLearningRate: undefined,
  rowNormalization: 'touched',
  dim: 32,
  evalNegatives: 99,
  seed: 1,
  centralEpochs: 30,
  centralLearningRate: 0.01,
  recall: true,
} as const satisfies Partial<SimulationOptions>
