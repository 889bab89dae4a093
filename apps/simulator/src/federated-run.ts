// The state of one in-process federated run: the global model, the server side and every device's keepsakes.
import { createRng, type ItemFeatures, initSharedWeights, type SharedWeights } from '@fedrec/core/client'
import {
  createAccumulator,
  createRdpAccountant,
  createServerOptimizer,
  type DpAggregation,
  type ServerOptimizerState,
} from '@fedrec/core/server'
import { FEATURE_BIAS, FEATURE_EMBEDDING, ITEM_BIAS, ITEM_EMBEDDING } from '@fedrec/protocol'
import { createAttackObserver } from './attack-observer.ts'
import { DEFAULTS, type SimulationOptions } from './options.ts'
import { mixSeed } from './seeds.ts'
import type { SplitDataset } from './split.ts'

/** Everything that lasts from round to round of `runFederated`; the round and client steps update it. */
export type FederatedRun = ReturnType<typeof createFederatedRun>

/**
 * What a shopper's device holds when several shops federate through one aggregator (shops.ts): its own
 * shop's model — the shop's id rows (a view into the union table) and the shared feature table — its shop's
 * item features, and where the shop's rows start in the union table, so its upload lands on its shop's rows.
 */
export interface ShopView {
  weights: SharedWeights
  itemFeatures?: ItemFeatures
  rowOffset: number
}

/** How a run starts other than from the seed alone. */
export interface FederatedSetup {
  /** The starting model; with a feature table, its rows train and federate like the item rows. */
  weights?: SharedWeights
  /** Several shops: each shopper's device's view of the model (absent: every device holds the whole model). */
  shopOf?: (index: number) => ShopView
}

/**
 * The run's starting state: a fresh global model from the seed, the accumulator and server optimizer the
 * aggregator would use, the DP accountant, and no vector or pseudo-items on any device yet.
 * @example const run = createFederatedRun(split, options)
 */
export function createFederatedRun(
  split: SplitDataset,
  options: SimulationOptions,
  setup: FederatedSetup = {},
) {
  const { dim, seed } = options
  const numItems = split.itemIds.length
  const weights: SharedWeights = setup.weights ?? initSharedWeights(numItems, dim, createRng(seed))
  if (weights.numItems !== numItems || weights.dim !== dim)
    throw new Error(
      `the starting model is ${weights.numItems} × ${weights.dim}, the run ${numItems} × ${dim}`,
    )
  const { features } = weights
  const params = new Map([
    [ITEM_EMBEDDING, weights.itemEmbedding],
    [ITEM_BIAS, weights.itemBias],
    ...(features
      ? ([
          [FEATURE_EMBEDDING, features.embedding],
          [FEATURE_BIAS, features.bias],
        ] as const)
      : []),
  ])
  // DP-FedAvg: clients clip to S, the accumulator clips again, weighs each update 1, adds N(0, σ²S²) to every
  // coordinate and divides by the fixed cohort size — the same core code as the aggregator's.
  const shoppers = split.users.filter((u) => u.train.length > 0).length
  const cohort = options.clientsPerRound === 'all' ? shoppers : Math.min(options.clientsPerRound, shoppers)
  const dp: DpAggregation | undefined =
    options.dpNoiseMultiplier === undefined
      ? undefined
      : {
          clipNorm: options.dpClipNorm ?? DEFAULTS.dpClipNorm,
          noiseMultiplier: options.dpNoiseMultiplier,
          denominator: cohort,
        }
  const accumulator = createAccumulator({
    tensors: [
      { name: ITEM_EMBEDDING, rows: numItems, cols: dim },
      { name: ITEM_BIAS, rows: numItems, cols: 1 },
      ...(features
        ? [
            { name: FEATURE_EMBEDDING, rows: features.rows, cols: dim },
            { name: FEATURE_BIAS, rows: features.rows, cols: 1 },
          ]
        : []),
    ],
    rowNormalization: options.rowNormalization,
    ...(dp ? { dp } : {}),
  })
  const optimizer = createServerOptimizer({
    name: options.serverOptimizer,
    ...(options.serverLearningRate === undefined ? {} : { learningRate: options.serverLearningRate }),
  })
  return {
    split,
    options,
    numItems,
    weights,
    shopOf: setup.shopOf,
    params,
    shoppers,
    cohort,
    dp,
    accumulator,
    optimizer,
    optimizerState: new Map<string, ServerOptimizerState>(),
    accountant: dp ? createRdpAccountant() : undefined,
    /** Each device's private vector; undefined before its first round. */
    vectors: split.users.map((): Float32Array | undefined => undefined),
    // Each device keeps its pseudo-items (row padding) from round to round, like its vector.
    pseudo: split.users.map((): number[] | undefined => undefined),
    /** The shoppers who can train: those with training events. */
    pool: split.users.flatMap((u, i) => (u.train.length > 0 ? [i] : [])),
    sampler: createRng(mixSeed(seed, 0xc1)),
    config: clientConfig(options, dp),
    observer: options.attack ? createAttackObserver() : undefined,
    shopperUpdates: 0,
    trainSeconds: 0,
  }
}

/** The round config every simulated device trains with, as the aggregator would hand it out. */
function clientConfig(options: SimulationOptions, dp: DpAggregation | undefined) {
  return {
    mu: options.mu,
    localEpochs: options.localEpochs,
    learningRate: options.learningRate,
    negativesPerPositive: options.negativesPerPositive,
    batchSize: options.batchSize,
    padRatio: options.padRatio,
    l2: options.l2,
    contextLength: options.contextLength,
    recency: options.recency,
    privateVector: options.privateVector,
    maxTargets: options.maxTargets,
    ...(dp ? { clipNorm: dp.clipNorm } : {}),
  }
}
