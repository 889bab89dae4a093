// How the simulator scores a model: each shopper ranks its own held-out item and only sums are added up, as
// federated evaluation on real devices would; plus full-catalogue ranking to compare with the baselines.
import {
  hitRatioAtK,
  ndcgAtK,
  rankAmong,
  type SequenceSettings,
  type SharedWeights,
  sequenceQuery,
} from '@fedrec/core/client'
import type { SplitDataset, SplitUser } from './split.ts'

/** Federated-evaluation sums: what clients report, never a rank or an item. */
export interface MetricSums {
  users: number
  hits10: number
  ndcg10: number
}

/** Means of {@link MetricSums}. */
export interface Metrics {
  hr10: number
  ndcg10: number
}

/** Sampled metrics and the full-ranking ones of the session-recommendation literature. */
export interface FullMetrics extends Metrics {
  recall20: number
  mrr20: number
}

export type HeldOut = 'test' | 'validation'

/** q·e_row + b_row, exactly what the scorer computes on the backend, here in plain float64. */
export function scoreRow(weights: SharedWeights, query: Float32Array, row: number): number {
  const { dim, itemEmbedding, itemBias } = weights
  let s = itemBias[row]!
  const base = row * dim
  for (let c = 0; c < dim; c++) s += query[c]! * itemEmbedding[base + c]!
  return s
}

/** What the shopper's device knew before touching the held-out item: its sequence-model state comes from it. */
export const contextOf = (user: SplitUser, which: HeldOut) =>
  which === 'test' ? user.testContext : user.validationContext

/**
 * The shopper's query vector for the held-out item `which`: the pooled recent items of what the device knew
 * then (`sequenceQuery`), plus its private vector when one is kept.
 */
export function shopperQuery(
  weights: SharedWeights,
  user: SplitUser,
  which: HeldOut,
  settings: SequenceSettings,
  privateVector?: Float32Array,
): Float32Array {
  return sequenceQuery(weights, contextOf(user, which), {
    settings,
    ...(privateVector ? { privateVector } : {}),
  })
}

/**
 * One shopper's local evaluation: the held-out row ranked against its fixed negatives. Runs where the
 * shopper's vector is (its device), so only the two numbers leave.
 * @example const { hit, ndcg } = evaluateOne((row) => scoreRow(weights, u, row), user.test!, user.negatives)
 */
export function evaluateOne(score: (row: number) => number, target: number, negatives: Int32Array) {
  const negativeScores = new Float64Array(negatives.length)
  for (let i = 0; i < negatives.length; i++) negativeScores[i] = score(negatives[i]!)
  const rank = rankAmong(score(target), negativeScores)
  return { hit: hitRatioAtK(rank, 10), ndcg: ndcgAtK(rank, 10) }
}

/**
 * Sums over every evaluated shopper, on the test item or on the validation item.
 * `scoreFor(user, index, which)` gives that shopper's scoring function.
 */
export function evaluateAll(
  split: SplitDataset,
  scoreFor: (user: SplitUser, index: number, which: HeldOut) => (row: number) => number,
  which: HeldOut = 'test',
): MetricSums {
  const sums: MetricSums = { users: 0, hits10: 0, ndcg10: 0 }
  for (const index of split.evalUsers) {
    const user = split.users[index]!
    const target = which === 'test' ? user.test : user.validation
    if (target === undefined) continue
    const { hit, ndcg } = evaluateOne(scoreFor(user, index, which), target, user.negatives)
    sums.users += 1
    sums.hits10 += hit
    sums.ndcg10 += ndcg
  }
  return sums
}

export const means = (s: MetricSums): Metrics => ({
  hr10: s.users > 0 ? s.hits10 / s.users : 0,
  ndcg10: s.users > 0 ? s.ndcg10 / s.users : 0,
})

/**
 * Scores every catalogue row for one shopper and held-out item: what a baseline or a model would rank the
 * whole catalogue by. Higher is better; ties count against the held-out item.
 */
export type CatalogueScores = (user: SplitUser, index: number, which: HeldOut) => Float64Array

/** Each evaluated shopper's metrics (0/1 hits, NDCG, reciprocal rank), in `split.evalUsers` order. */
export interface PerShopperMetrics {
  hr10: Float64Array
  ndcg10: Float64Array
  recall20: Float64Array
  mrr20: Float64Array
}

/**
 * Sampled HR@10 / NDCG@10 (the held-out item against the shopper's 99 fixed negatives) and full-ranking
 * Recall@20 / MRR@20 (against every item the shopper had not touched before it — the items the device knew
 * are what `recommend()` leaves out). One held-out item per shopper, so Recall@20 is the hit rate at 20.
 * @example const pop = evaluateFull(split, () => popularityCounts)
 */
export function evaluateFull(
  split: SplitDataset,
  scores: CatalogueScores,
  which: HeldOut = 'test',
): FullMetrics {
  const each = evaluatePerShopper(split, scores, which)
  const mean = (x: Float64Array) => (x.length > 0 ? x.reduce((a, b) => a + b, 0) / x.length : 0)
  return {
    hr10: mean(each.hr10),
    ndcg10: mean(each.ndcg10),
    recall20: mean(each.recall20),
    mrr20: mean(each.mrr20),
  }
}

/**
 * {@link evaluateFull}'s metrics per evaluated shopper (those with the held-out item `which`), for paired
 * comparisons of two models on the same shoppers (bootstrap.ts).
 * @example const gain = bootstrapMean(a.hr10.map((x, i) => x - b.hr10[i]!), { seed: 1 })
 */
export function evaluatePerShopper(
  split: SplitDataset,
  scores: CatalogueScores,
  which: HeldOut = 'test',
): PerShopperMetrics {
  const hr10: number[] = []
  const ndcg10: number[] = []
  const recall20: number[] = []
  const mrr20: number[] = []
  for (const index of split.evalUsers) {
    const user = split.users[index]!
    const target = which === 'test' ? user.test : user.validation
    if (target === undefined) continue
    const s = scores(user, index, which)
    const sampled = evaluateOne((row) => s[row]!, target, user.negatives)
    hr10.push(sampled.hit)
    ndcg10.push(sampled.ndcg)
    const known = new Set(contextOf(user, which).map((e) => e.row))
    const mine = s[target]!
    let rank = 0
    for (let row = 0; row < s.length && rank < 20; row++) {
      if (row !== target && !known.has(row) && !(s[row]! < mine)) rank++
    }
    recall20.push(rank < 20 ? 1 : 0)
    mrr20.push(rank < 20 ? 1 / (rank + 1) : 0)
  }
  return {
    hr10: Float64Array.from(hr10),
    ndcg10: Float64Array.from(ndcg10),
    recall20: Float64Array.from(recall20),
    mrr20: Float64Array.from(mrr20),
  }
}

/** Every row's score under a model: the shopper's query against the item table. */
export function modelScores(weights: SharedWeights, query: Float32Array): Float64Array {
  const out = new Float64Array(weights.numItems)
  for (let row = 0; row < weights.numItems; row++) out[row] = scoreRow(weights, query, row)
  return out
}
