import type { TensorDelta } from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { clipRows } from './clip-rows.ts'
import { AggregationError } from './errors.ts'

function delta(name: string, cols: number, rowIds: number[], values: number[]): TensorDelta {
  return { name, cols, rowIds: Uint32Array.from(rowIds), values: Float32Array.from(values) }
}

describe('clipRows', () => {
  it('scales each item row (embedding and bias together) to the bound, leaving the others as they are', () => {
    const deltas = [
      // Row 2: embedding (3, 0) and bias 4 → norm 5, scaled by 1/5 to (0.6, 0), 0.8.
      // Row 7: embedding (0.3, 0.4), no bias → norm 0.5, kept.
      delta('item_embedding', 2, [2, 7], [3, 0, 0.3, 0.4]),
      delta('item_bias', 1, [2], [4]),
    ]
    const { deltas: out, clippedRows } = clipRows(deltas, 1)
    expect(clippedRows).toBe(1)
    expect(Array.from(out[0]!.values)).toEqual([Math.fround(0.6), 0, Math.fround(0.3), Math.fround(0.4)])
    expect(Array.from(out[1]!.values)).toEqual([Math.fround(0.8)])
    // The input is not touched.
    expect(Array.from(deltas[1]!.values)).toEqual([4])
  })

  it('bounds a one-item attack: a bias of +1000 becomes +maxRowNorm', () => {
    const { deltas, clippedRows } = clipRows([delta('item_bias', 1, [5], [1000])], 0.5)
    expect(clippedRows).toBe(1)
    expect(Array.from(deltas[0]!.values)).toEqual([0.5])
  })

  it('returns the same arrays when no row is above the bound', () => {
    const deltas = [delta('item_bias', 1, [0, 1], [0.1, -0.2])]
    const out = clipRows(deltas, 1)
    expect(out.clippedRows).toBe(0)
    expect(out.deltas).toBe(deltas)
  })

  it('refuses a bound that is not a finite number > 0', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => clipRows([], bad)).toThrow(AggregationError)
  })
})
