// The part of the shared item table one client trains: only the rows it reads, padded so WebGL reuses its
// shaders.
import { ModelError } from './errors.ts'
import type { SharedWeights } from './weights.ts'

/** The shared rows one client trains: only those its examples read, re-indexed 0..S-1. */
export interface RowCut {
  rows: Uint32Array
  /** Global row → local row. */
  local: Map<number, number>
  embedding: Float32Array
  bias: Float32Array
  paddedRows: number
}

/** Copies the global values of `touched` rows (ascending, padded to a bucket; padding rows are 0). */
export function cutRows(weights: SharedWeights, touched: Iterable<number>): RowCut {
  const { numItems, dim } = weights
  const rows = Uint32Array.from(touched).sort()
  const local = new Map<number, number>()
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!
    if (row >= numItems) {
      throw new ModelError('row_out_of_range', `sample row ${row} is outside 0..${numItems - 1}`)
    }
    local.set(row, i)
  }
  const paddedRows = bucket(rows.length, 16)
  const embedding = new Float32Array(paddedRows * dim)
  const bias = new Float32Array(paddedRows)
  rows.forEach((row, i) => {
    embedding.set(weights.itemEmbedding.subarray(row * dim, (row + 1) * dim), i * dim)
    bias[i] = weights.itemBias[row]!
  })
  return { rows, local, embedding, bias, paddedRows }
}

/**
 * `n` rounded up to a power of two (at least `min`). WebGL compiles a shader per distinct input shape, so
 * rounding keeps the program cache warm across shoppers and rounds instead of compiling ~30 programs for
 * every new slice size; the padding rows never appear in a batch and stay exactly 0.
 */
export function bucket(n: number, min: number): number {
  let size = min
  while (size < n) size *= 2
  return size
}
