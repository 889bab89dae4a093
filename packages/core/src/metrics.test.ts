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
