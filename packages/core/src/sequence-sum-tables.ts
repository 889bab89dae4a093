// The CPU-built row tables through which WebGL sums a step's read gradients onto slice rows (it cannot scatter).
import { bucket } from './slice.ts'

/**
 * For each batch and slice row r, the positions among that batch's reads ([positives (B) | negatives (B·K)])
 * that read r, padded with the reads' count (pointing at a trailing zero row): summing the
 * reads' gradients onto rows is then a gather and a sum, where WebGL cannot scatter. Padding reads (-1) are
 * left out. Stacked: batch b's table is rows b·S … (b+1)·S − 1 of `[batches · S, width]`.
 * @example
 * buildSumTables(Int32Array.of(1, 0, 1), { batches: 1, reads: 3, rows: 2 }) // rows 0: [1, 3, 3, 3], 1: [0, 2, 3, 3]
 */
export function buildSumTables(
  readRows: Int32Array,
  options: { batches: number; reads: number; rows: number },
): { values: Int32Array; width: number } {
  const { batches, reads, rows } = options
  const filled = new Int32Array(batches * rows)
  let most = 1
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < reads; i++) {
      const row = readRows[b * reads + i]!
      if (row >= 0) most = Math.max(most, ++filled[b * rows + row]!)
    }
  }
  const width = bucket(most, 4)
  const values = new Int32Array(batches * rows * width).fill(reads)
  filled.fill(0)
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < reads; i++) {
      const row = readRows[b * reads + i]!
      if (row < 0) continue
      const r = b * rows + row
      values[r * width + filled[r]!++] = i
    }
  }
  return { values, width }
}
