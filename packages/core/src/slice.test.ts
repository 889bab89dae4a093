import { describe, expect, it } from 'vitest'
import { ModelError } from './errors.ts'
import { bucket, cutSlice } from './slice.ts'
import type { SharedWeights } from './weights.ts'

const weights: SharedWeights = {
  numItems: 6,
  dim: 2,
  itemEmbedding: Float32Array.from({ length: 12 }, (_, i) => i),
  itemBias: Float32Array.of(0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
}

describe('cutSlice', () => {
  it('keeps the touched rows ascending, re-indexed, with their values and zero padding', () => {
    const slice = cutSlice(weights, {
      positives: Int32Array.of(4, 1, 4, 9),
      negatives: Int32Array.of(0, 5, 1, 9),
      weights: Float32Array.of(1, 1, 1, 1),
      count: 3, // the fourth pair is beyond count and must be ignored
    })
    expect(Array.from(slice.rows)).toEqual([0, 1, 4, 5])
    expect(Array.from(slice.positives)).toEqual([2, 1, 2])
    expect(Array.from(slice.negatives)).toEqual([0, 3, 1])
    expect(slice.paddedRows).toBe(16)
    expect(Array.from(slice.embedding.subarray(0, 8))).toEqual([0, 1, 2, 3, 8, 9, 10, 11])
    expect(slice.embedding.subarray(8).every((v) => v === 0)).toBe(true)
    expect(Array.from(slice.bias.subarray(0, 4))).toEqual([0, 0.1, 0.4, 0.5].map(Math.fround))
  })

  it('refuses rows outside the catalogue and short arrays', () => {
    const one = (row: number) => ({
      positives: Int32Array.of(row),
      negatives: Int32Array.of(0),
      weights: Float32Array.of(1),
      count: 1,
    })
    expect(() => cutSlice(weights, one(6))).toThrow(ModelError)
    expect(() => cutSlice(weights, one(-1))).toThrow(/outside 0..5/)
    expect(() => cutSlice(weights, { ...one(1), count: 2 })).toThrow(/fewer than count/)
  })
})

describe('bucket', () => {
  it('rounds up to a power of two, at least the minimum', () => {
    expect([1, 16, 17, 300, 512, 513].map((n) => bucket(n, 16))).toEqual([16, 16, 32, 512, 512, 1024])
  })
})
