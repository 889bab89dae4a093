// The state of one in-process federated run: the global model, the server side and every device's keepsakes.
import {
  createRng,
  type ItemFeatures,
  initSharedWeights,
  itemTable,
  type SharedWeights,
} from '@fedrec/core/client'
import {
  createAccumulator,
  createRdpAccountant,
  createServerOptimizer,
  type DpAggregation,
  modelAccumulatorOptions,
  type ServerOptimizerState,
} from '@fedrec/core/server'
import { FEATURE_BIAS, FEATURE_EMBEDDING, ITEM_BIAS, ITEM_EMBEDDING } from '@fedrec/protocol'
import { createAttackObserver } from './attack-observer.ts'
import { DEFAULTS, type SimulationOptions } from './options.ts'
import { mixSeed } from './seeds.ts'
import type { SplitDataset } from './split.ts'

/** Everything that lasts from round to round of `runFederated`; the round and client steps update it. */
export type FederatedRun = ReturnType<typeof createFederatedRun>

/** What the federated model is made of beyond the options: its item features and the rows it lists. */
export interface ModelPlan {
  /** Every row's feature rows (all of `split.itemIds`); absent: the id-only model. */
  itemFeatures?: ItemFeatures | undefined
  /**
   * The rows the model lists while it trains (`0 .. listed − 1`, drawn as negatives); the rows after them are
   * products added once training is over (`--cold-items`). Default: every row.
   */
  listed?: number
  /** The starting model (default: drawn from the seed); with a feature table, its rows train and federate. */
  weights?: SharedWeights
  /** Several shops (shops-run.ts): each shopper's device's view of the model; absent: the whole model. */
  shopOf?: (index: number) => ShopView
}

/**
 * What a shopper's device holds when several shops federate through one aggregator: its own shop's model —
 * the shop's id rows (a view into the union table) and the shared feature table — its shop's item features,
 * and where the shop's rows start in the union table, so its upload lands on its shop's rows.
 */
export interface ShopView {
  weights: SharedWeights
  itemFeatures?: ItemFeatures
  rowOffset: number
}

/**
 * The run's starting state: a fresh global model from the seed, the accumulator and server optimizer the
 * aggregator would use, the DP accountant, and no vector or pseudo-items on any device yet. The initial
 * model covers every row; the rows past `plan.listed` are set aside as they were drawn (an id row of 0 for a
 * product with features, a random one for a product without) and come back in {@link finalWeights}.
 * @example const run = createFederatedRun(split, options, { itemFeatures })
 */
export function createFederatedRun(split: SplitDataset, options: SimulationOptions, plan: ModelPlan = {}) {
  const { dim, seed } = options
  const { itemFeatures } = plan
  const allItems = split.itemIds.length
  const numItems = plan.listed ?? allItems
  const initial: SharedWeights =
    plan.weights ??
    initSharedWeights(
      allItems,
      dim,
      createRng(seed),
      itemFeatures ? { numFeatures: itemFeatures.numFeatures, itemFeatures } : {},
    )
  if (initial.numItems !== allItems || initial.dim !== dim)
    throw new Error(
      `the starting model is ${initial.numItems} × ${initial.dim}, the run ${allItems} × ${dim}`,
    )
  const weights: SharedWeights =
    numItems === allItems
      ? initial
      : {
          ...initial,
          numItems,
          itemEmbedding: initial.itemEmbedding.slice(0, numItems * dim),
          itemBias: initial.itemBias.slice(0, numItems),
        }
  const params = new Map([
    [ITEM_EMBEDDING, weights.itemEmbedding],
    [ITEM_BIAS, weights.itemBias],
  ])
  const featureTable = weights.features
  if (featureTable) {
    params.set(FEATURE_EMBEDDING, featureTable.embedding)
    params.set(FEATURE_BIAS, featureTable.bias)
  }
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
  const accumulator = createAccumulator(
    modelAccumulatorOptions({
      numItems,
      dim,
      featureRows: featureTable?.rows,
      rowNormalization: options.rowNormalization,
      itemRowFloor: options.itemRowFloor,
      dp,
    }),
  )
  const optimizer = createServerOptimizer({
    name: options.serverOptimizer,
    ...(options.serverLearningRate === undefined ? {} : { learningRate: options.serverLearningRate }),
  })
  return {
    split,
    options,
    numItems,
    itemFeatures,
    initial,
    weights,
    shopOf: plan.shopOf,
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
    ...(options.negativeIdRows === false ? { negativesOnFeatures: true } : {}),
    ...(dp ? { clipNorm: dp.clipNorm } : {}),
  }
}

/**
 * The model as a shop would score with it after training: the trained rows, then the products added after
 * training with their initial id rows, composed with the item features into one id-only item table
 * (core's `itemTable`) over every row of the split.
 * @example const table = finalWeights(run) // table.numItems === split.itemIds.length
 */
export function finalWeights(run: FederatedRun): SharedWeights {
  const { weights, initial, itemFeatures } = run
  const grown: SharedWeights =
    weights.numItems === initial.numItems
      ? weights
      : {
          ...weights,
          numItems: initial.numItems,
          itemEmbedding: concat(weights.itemEmbedding, initial.itemEmbedding, weights.numItems * weights.dim),
          itemBias: concat(weights.itemBias, initial.itemBias, weights.numItems),
        }
  return itemTable(grown, itemFeatures)
}

/** `head`, then `all` from `at` on. */
function concat(head: Float32Array, all: Float32Array, at: number): Float32Array {
  const out = all.slice()
  out.set(head.subarray(0, at))
  return out
}
