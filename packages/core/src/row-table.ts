import { ModelError } from './errors.ts'
import { bucket } from './slice.ts'

/**
 * The row tables of an epoch's batches (see `RowLookup` 'row-table' in objective.ts), stacked: `values` is
 * `[batches · rows, width]` and batch b's table is its rows b·rows … (b+1)·rows − 1.
 */
export interface RowTables {
  values: Int32Array
  /** K: at least the most pairs one slice row has in one batch, rounded up (see `bucket`). */
  width: number
}

export interface RowTableOptions {
  batches: number
  /** Pairs per batch, B. */
  batch: number
  /** Slice rows, S. */
  rows: number
  /** Real pairs: positions from `count` on are padding (weight 0, gradient 0) and are left out. */
  count: number
}

/**
 * For every batch and slice row r, the positions in that batch's [d⁺ (B) | d⁻ (B) | 0] of the pairs whose
 * positive (position i) or negative (position B + i) is r, padded with 2B, which points at the trailing 0.
 * The inverse of the batch's row indices, built on the CPU because WebGL cannot scatter: with it, summing
 * the pair gradients onto rows is a gather and a sum of K per row. `positives` and `negatives` hold the
 * epoch's pairs as slice rows, batch after batch (`batches · batch` each).
 * @example
 * buildRowTables(Int32Array.of(0, 0), Int32Array.of(1, 2), { batches: 1, batch: 2, rows: 3, count: 2 })
 * // width 4; row 0: [0, 1, 4, 4] (both positives), row 1: [2, 4, 4, 4], row 2: [3, 4, 4, 4]
 */
export function buildRowTables(
  positives: Int32Array,
  negatives: Int32Array,
  options: RowTableOptions,
): RowTables {
  const { batches, batch, rows, count } = options
  const real = Math.min(count, batches * batch)
  const filled = new Int32Array(batches * rows)
  let most = 0
  for (let j = 0; j < real; j++) {
    const base = Math.floor(j / batch) * rows
    for (const row of [positives[j]!, negatives[j]!]) {
      if (!(row >= 0 && row < rows)) {
        throw new ModelError('row_out_of_range', `buildRowTables: row ${row} is outside 0..${rows - 1}`)
      }
      most = Math.max(most, ++filled[base + row]!)
    }
  }
  // A power of two, like the slice and the batch, so that the shaders compiled for one shape are reused.
  const width = bucket(most, 4)
  const values = new Int32Array(batches * rows * width).fill(2 * batch)
  filled.fill(0)
  for (let j = 0; j < real; j++) {
    const base = Math.floor(j / batch) * rows
    const i = j % batch
    const p = base + positives[j]!
    values[p * width + filled[p]!++] = i
    const n = base + negatives[j]!
    values[n * width + filled[n]!++] = batch + i
  }
  return { values, width }
}
