import { hitRatioAtK, ndcgAtK, rankAmong, type Scorer, type SharedWeights } from '@fedrec/core'
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

/** u·e_row + b_row, exactly what the scorer computes on the backend, here in plain float64 for 100 rows. */
export function scoreRow(weights: SharedWeights, user: Float32Array, row: number): number {
  const { dim, itemEmbedding, itemBias } = weights
  let s = itemBias[row]!
  const base = row * dim
  for (let c = 0; c < dim; c++) s += user[c]! * itemEmbedding[base + c]!
  return s
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
 * `scoreFor(user)` gives that shopper's scoring function.
 */
export function evaluateAll(
  split: SplitDataset,
  scoreFor: (user: SplitUser, index: number) => (row: number) => number,
  which: 'test' | 'validation' = 'test',
): MetricSums {
  const sums: MetricSums = { users: 0, hits10: 0, ndcg10: 0 }
  for (const index of split.evalUsers) {
    const user = split.users[index]!
    const target = which === 'test' ? user.test : user.validation
    if (target === undefined) continue
    const { hit, ndcg } = evaluateOne(scoreFor(user, index), target, user.negatives)
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
 * Full-ranking Recall@20 (one held-out item, so the hit rate at 20 over the whole catalogue): the test item
 * among every item except the shopper's training items and validation item, scored by the core scorer —
 * the same top-k the browser recommends with.
 */
export async function recallAt20(
  split: SplitDataset,
  scorer: Scorer,
  vectorFor: (user: SplitUser, index: number) => Float32Array,
): Promise<number> {
  let hits = 0
  let users = 0
  for (const index of split.evalUsers) {
    const user = split.users[index]!
    const exclude = new Set(user.trainRows)
    if (user.validation !== undefined) exclude.add(user.validation)
    const top = await scorer.topK(vectorFor(user, index), 20, exclude)
    users += 1
    if (top.some((r) => r.row === user.test)) hits += 1
  }
  return users > 0 ? hits / users : 0
}
