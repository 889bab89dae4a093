import { ModelError } from './errors.ts'
import type { TrainingSamples } from './samples.ts'
import type { SharedWeights } from './weights.ts'

/** The shared rows one client trains: only those its samples touch, re-indexed 0..S-1. */
export interface RowSlice {
  /** Global rows, strictly ascending; local row i is global row `rows[i]`. */
  rows: Uint32Array
  /** Each pair's positive and negative as local rows. */
  positives: Int32Array
  negatives: Int32Array
  /** The slice's current global values, `paddedRows × dim` and `paddedRows`; padding rows are 0. */
  embedding: Float32Array
  bias: Float32Array
  /** Rows in the tensors: S rounded up so that tensor shapes repeat between calls (see `bucket`). */
  paddedRows: number
}

/**
 * Cuts the slice for `samples` out of the shared weights. Throws a `ModelError` for a row outside the
 * catalogue or arrays shorter than `count`.
 */
export function cutSlice(weights: SharedWeights, samples: TrainingSamples): RowSlice {
  const { numItems } = weights
  const { count } = samples
  if (
    samples.positives.length < count ||
    samples.negatives.length < count ||
    samples.weights.length < count
  ) {
    throw new ModelError('shape_mismatch', `samples hold fewer than count = ${count} pairs`)
  }
  const touched = new Set<number>()
  for (const array of [samples.positives, samples.negatives]) {
    for (let i = 0; i < count; i++) {
      const row = array[i]!
      if (row < 0 || row >= numItems) {
        throw new ModelError('row_out_of_range', `sample row ${row} is outside 0..${numItems - 1}`)
      }
      touched.add(row)
    }
  }
  const cut = cutRows(weights, touched)
  const toLocal = (array: Int32Array) =>
    Int32Array.from(array.subarray(0, count), (row) => cut.local.get(row)!)
  return { ...cut, positives: toLocal(samples.positives), negatives: toLocal(samples.negatives) }
}

/** The shared rows one client trains, without the pairs: what `cutSlice` and the sequence trainer share. */
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
