// Test support only (not exported): a generated catalogue where only item features can rank cold products,
// and an in-process federated run (core's client round, accumulator and server step) to train on it.
import { encodeUpdate } from '@fedrec/protocol'
import type * as TF from '@tensorflow/tfjs-core'
import { createAccumulator } from './aggregation/accumulator.ts'
import type { RowNormalization } from './aggregation/accumulator-types.ts'
import { applyRound } from './aggregation/apply-round.ts'
import { createServerOptimizer, type ServerOptimizerState } from './aggregation/server-optimizer.ts'
import { type ClientRoundConfig, trainClientRound } from './client-round.ts'
import { featureRows, type ItemFeatures } from './item-features.ts'
import { hitRatioAtK, rankAmong } from './metrics.ts'
import { createRng, type Rng } from './rng.ts'
import type { RowEvent } from './samples.ts'
import { createScorer } from './scorer.ts'
import { sequenceQuery } from './sequence.ts'
import { initSharedWeights, type SharedWeights, sharedWeightsToTensors } from './weights.ts'

const TOPS = 5
const SUBS = 4
/** 20 leaf categories ('cat:t2.s3'), each under one of 5 top categories ('cat:t2'). */
export const LEAVES = TOPS * SUBS
const WARM = 40
const COLD = 10
const PER_LEAF = WARM + COLD

/** The generated shop: who bought what, and which products nobody in training touched. */
export interface ColdStartShop {
  numItems: number
  /** Each item's features: both category levels, plus brand, price band and two title tokens that say nothing. */
  features: string[][]
  /** Rows 40..49 of every leaf: in the catalogue with their features, touched by no training shopper. */
  cold: number[]
  train: RowEvent[][]
  test: { history: RowEvent[]; heldOut: number }[]
}

/** Leaf `leaf`'s item `i` (warm below 40, cold from 40). */
const itemOf = (leaf: number, i: number) => leaf * PER_LEAF + i

/**
 * 1000 items in 20 leaf categories; each shopper sticks to one leaf. Training shoppers (10 a leaf) click 8
 * warm items of theirs; test shoppers (5 a leaf) clicked 5 warm items and then one cold item of their leaf,
 * held out. Brand, price and tokens are drawn at random: only the category says which cold item fits.
 * @example const shop = generateColdStartShop(1)
 */
export function generateColdStartShop(seed: number): ColdStartShop {
  const rng = createRng(seed)
  const numItems = LEAVES * PER_LEAF
  const features = Array.from({ length: numItems }, (_, item) => {
    const leaf = Math.floor(item / PER_LEAF)
    const top = Math.floor(leaf / SUBS)
    return [
      `cat:t${top}`,
      `cat:t${top}.s${leaf % SUBS}`,
      `brand:b${rng.int(40)}`,
      `price:${rng.int(5)}`,
      `tok:w${rng.int(300)}`,
      `tok:w${rng.int(300)}`,
    ]
  })
  const cold = Array.from({ length: LEAVES * COLD }, (_, j) =>
    itemOf(Math.floor(j / COLD), WARM + (j % COLD)),
  )
  const clicks = (leaf: number, n: number) =>
    pickDistinct(WARM, n, rng).map((i): RowEvent => ({ type: 'click', row: itemOf(leaf, i) }))
  const train = Array.from({ length: LEAVES * 10 }, (_, s) => clicks(s % LEAVES, 8))
  const test = Array.from({ length: LEAVES * 5 }, (_, s) => {
    const leaf = s % LEAVES
    return { history: clicks(leaf, 5), heldOut: itemOf(leaf, WARM + rng.int(COLD)) }
  })
  return { numItems, features, cold, train, test }
}

function pickDistinct(n: number, k: number, rng: Rng): number[] {
  const all = Array.from({ length: n }, (_, i) => i)
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i)
    ;[all[i], all[j]] = [all[j]!, all[i]!]
  }
  return all.slice(0, k)
}

/** What one federated run on the shop ended with. */
export interface ColdStartRun {
  weights: SharedWeights
  itemFeatures: ItemFeatures | undefined
  /** Mean encoded update size (float32, bytes) per client of the last round. */
  updateBytes: number
}

const CONFIG: ClientRoundConfig = {
  mu: 0,
  localEpochs: 2,
  learningRate: 0.2,
  negativesPerPositive: 4,
  batchSize: 256,
}

/**
 * `rounds` FedAvg rounds of every training shopper ('touched' row normalisation, as the aggregator runs),
 * with a feature table of `numFeatures` rows or (undefined) the id-only model.
 * @example const run = await federatedColdStart(tf, shop, { rounds: 6, numFeatures: 4096, seed: 1 })
 */
export async function federatedColdStart(
  tf: typeof TF,
  shop: ColdStartShop,
  options: {
    rounds: number
    numFeatures: number | undefined
    seed: number
    l2?: number
    rowNormalization?: RowNormalization
  },
): Promise<ColdStartRun> {
  const { rounds, numFeatures, seed, l2 = 0, rowNormalization = 'touched' } = options
  const itemFeatures = numFeatures === undefined ? undefined : featureRows(shop.features, numFeatures)
  const weights = initSharedWeights(shop.numItems, 16, createRng(seed), {
    ...(numFeatures === undefined ? {} : { numFeatures }),
    ...(itemFeatures ? { itemFeatures } : {}),
  })
  const tensors = sharedWeightsToTensors(weights)
  const params = new Map(tensors.map((t) => [t.name, t.values]))
  const accumulator = createAccumulator({ tensors, rowNormalization })
  const optimizer = createServerOptimizer({ name: 'fedavg' })
  const state = new Map<string, ServerOptimizerState>()
  const rng = createRng(seed + 1)
  let bytes = 0
  for (let round = 0; round < rounds; round++) {
    accumulator.reset()
    bytes = 0
    for (const events of shop.train) {
      const { result } = await trainClientRound(tf, {
        weights,
        userVector: new Float32Array(weights.dim),
        events,
        config: { ...CONFIG, l2 },
        rng,
        ...(itemFeatures ? { itemFeatures } : {}),
      })
      accumulator.add({ sampleCount: result.sampleCount, tensors: result.deltas })
      bytes += encodeUpdate({
        round,
        modelVersion: round,
        clientId: '0'.repeat(32),
        idempotencyKey: '1'.repeat(32),
        sampleCount: result.sampleCount,
        tensors: result.deltas,
      }).length
    }
    // In place: `weights` shares its arrays with `params`.
    applyRound(params, accumulator.result(), optimizer, state)
  }
  return { weights, itemFeatures, updateBytes: bytes / shop.train.length }
}

/**
 * HR@10 of each test shopper's held-out cold item among the 200 cold items, scored by the on-device scorer
 * from the shopper's query (ties count against the target).
 * @example const hr = await coldHitRate(tf, shop, run)
 */
export async function coldHitRate(tf: typeof TF, shop: ColdStartShop, run: ColdStartRun): Promise<number> {
  const { weights, itemFeatures } = run
  const scorer = createScorer(tf, weights, itemFeatures ? { itemFeatures } : {})
  const coldSet = new Set(shop.cold)
  const others = new Set(Array.from({ length: shop.numItems }, (_, i) => i).filter((i) => !coldSet.has(i)))
  try {
    let hits = 0
    for (const { history, heldOut } of shop.test) {
      const query = sequenceQuery(weights, history, itemFeatures ? { itemFeatures } : {})
      const scored = await scorer.topK(query, shop.cold.length, others)
      const score = new Map(scored.map((s) => [s.row, s.score]))
      const rivals = shop.cold.filter((row) => row !== heldOut).map((row) => score.get(row)!)
      hits += hitRatioAtK(rankAmong(score.get(heldOut)!, rivals), 10)
    }
    return hits / shop.test.length
  } finally {
    scorer.dispose()
  }
}

/**
 * The popularity baseline's HR@10 on the same task: training clicks per item (every cold item has none, so
 * with ties against the target it cannot rank one).
 * @example popularityHitRate(shop) // 0
 */
export function popularityHitRate(shop: ColdStartShop): number {
  const clicks = new Float64Array(shop.numItems)
  for (const events of shop.train) for (const { row } of events) clicks[row]! += 1
  let hits = 0
  for (const { heldOut } of shop.test) {
    const rivals = shop.cold.filter((row) => row !== heldOut).map((row) => clicks[row]!)
    hits += hitRatioAtK(rankAmong(clicks[heldOut]!, rivals), 10)
  }
  return hits / shop.test.length
}
