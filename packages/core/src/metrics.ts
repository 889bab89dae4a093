// The ranking metrics (HR@K, NDCG@K) the simulator's leave-one-out evaluation scores each model with.

/**
 * 0-based rank of a held-out item among sampled negatives: how many negatives score at least as high.
 * Ties and NaNs count against the target (pessimistic), so an untrained model that scores everything the
 * same ranks last rather than first and cannot look perfect.
 * @example
 * rankAmong(0.9, [0.1, 0.95, 0.3]) // 1
 * rankAmong(0.5, [0.5, 0.5])       // 2
 */
export function rankAmong(targetScore: number, negativeScores: ArrayLike<number>): number {
  let rank = 0
  for (let i = 0; i < negativeScores.length; i++) {
    // `!(s < t)` rather than `s >= t`: a NaN on either side must count against the target.
    if (!((negativeScores[i] as number) < targetScore)) rank++
  }
  return rank
}

/**
 * Hit ratio at K for one test case: 1 if the held-out item is in the top K.
 * @example
 * hitRatioAtK(rankAmong(target, negatives), 10) // 1 or 0; average over shoppers for HR@10
 */
export function hitRatioAtK(rank: number, k: number): number {
  return rank < k ? 1 : 0
}

/**
 * NDCG at K for one test case with a single relevant item: 1 / log2(rank + 2) inside the top K, else 0.
 * @example
 * ndcgAtK(0, 10) // 1
 * ndcgAtK(2, 10) // 0.5
 */
export function ndcgAtK(rank: number, k: number): number {
  return rank < k ? 1 / Math.log2(rank + 2) : 0
}
