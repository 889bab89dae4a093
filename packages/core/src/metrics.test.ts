import { describe, expect, it } from 'vitest'
import { hitRatioAtK, ndcgAtK, rankAmong } from './metrics.ts'

describe('rankAmong', () => {
  it('counts negatives scoring at least as high as the target', () => {
    expect(rankAmong(0.9, [0.1, 0.2, 0.3])).toBe(0)
    expect(rankAmong(0.9, [0.1, 0.95, 0.3])).toBe(1)
    expect(rankAmong(0, [1, 2, 3])).toBe(3)
  })

  it('counts ties and NaNs against the target', () => {
    expect(rankAmong(0, new Float32Array(99))).toBe(99)
    expect(rankAmong(0.5, [Number.NaN, 0.1])).toBe(1)
    expect(rankAmong(Number.NaN, [0.1, 0.2])).toBe(2)
  })
})

describe('HR@K and NDCG@K', () => {
  it('match hand-computed values', () => {
    expect(hitRatioAtK(0, 10)).toBe(1)
    expect(ndcgAtK(0, 10)).toBe(1)
    expect(ndcgAtK(1, 10)).toBeCloseTo(1 / Math.log2(3), 12)
    expect(ndcgAtK(2, 10)).toBe(0.5)
    expect(hitRatioAtK(9, 10)).toBe(1)
    expect(ndcgAtK(9, 10)).toBeCloseTo(1 / Math.log2(11), 12)
    expect(hitRatioAtK(10, 10)).toBe(0)
    expect(ndcgAtK(10, 10)).toBe(0)
  })

  it('score an untrained constant model as 0', () => {
    const rank = rankAmong(0.25, new Array(99).fill(0.25))
    expect(hitRatioAtK(rank, 10)).toBe(0)
    expect(ndcgAtK(rank, 10)).toBe(0)
  })
})

describe('HR@10 and NDCG@10 over shoppers, from hand-computed rankings', () => {
  it('average per-shopper ranks as the leave-one-out protocol does', () => {
    // Shopper A: target 0.9 beats all 99 negatives → rank 0. B: 4 negatives score higher → rank 4.
    // C: 12 higher → rank 12, outside the top 10. D: ties with 9 negatives, 0 higher → rank 9 (ties count against).
    const negatives = (higher: number, ties = 0) =>
      Array.from({ length: 99 }, (_, i) => (i < higher ? 2 : i < higher + ties ? 1 : 0))
    const ranks = [
      rankAmong(0.9, negatives(0)),
      rankAmong(1, negatives(4)),
      rankAmong(1, negatives(12)),
      rankAmong(1, negatives(0, 9)),
    ]
    expect(ranks).toEqual([0, 4, 12, 9])
    const hr = ranks.reduce((s, r) => s + hitRatioAtK(r, 10), 0) / ranks.length
    const ndcg = ranks.reduce((s, r) => s + ndcgAtK(r, 10), 0) / ranks.length
    expect(hr).toBe(0.75)
    // (1 + 1/log2(6) + 0 + 1/log2(11)) / 4
    expect(ndcg).toBeCloseTo((1 + 0.38685280723454163 + 0 + 0.2890648263178879) / 4, 12)
  })
})
