import { describe, expect, it } from 'vitest'
import { ModelError } from './errors.ts'
import { bucket, cutRows } from './slice.ts'
import type { SharedWeights } from './weights.ts'

const weights: SharedWeights = {
  numItems: 6,
  dim: 2,
  itemEmbedding: Float32Array.from({ length: 12 }, (_, i) => i),
  itemBias: Float32Array.of(0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
}

describe('cutRows', () => {
  it('keeps the touched rows ascending, re-indexed, with their values and zero padding', () => {
    const cut = cutRows(weights, new Set([4, 1, 0, 5]))
    expect(Array.from(cut.rows)).toEqual([0, 1, 4, 5])
    expect([...cut.local]).toEqual([
      [0, 0],
      [1, 1],
      [4, 2],
      [5, 3],
    ])
    expect(cut.paddedRows).toBe(16)
    expect(Array.from(cut.embedding.subarray(0, 8))).toEqual([0, 1, 2, 3, 8, 9, 10, 11])
    expect(cut.embedding.subarray(8).every((v) => v === 0)).toBe(true)
    expect(Array.from(cut.bias.subarray(0, 4))).toEqual([0, 0.1, 0.4, 0.5].map(Math.fround))
  })

  it('refuses rows outside the catalogue', () => {
    expect(() => cutRows(weights, [6])).toThrow(ModelError)
    expect(() => cutRows(weights, [-1])).toThrow(/outside 0..5/)
  })
})

describe('bucket', () => {
  it('rounds up to a power of two, at least the minimum', () => {
    expect([1, 16, 17, 300, 512, 513].map((n) => bucket(n, 16))).toEqual([16, 16, 32, 512, 512, 1024])
  })
})
