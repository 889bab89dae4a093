// The aggregator's per-item bound on an update (--max-row-norm), so no single client can drag one item's row
// far.
import type { TensorDelta } from '@fedrec/protocol'
import { AggregationError } from './errors.ts'

/**
 * Per-row clipping, a robust aggregation rule for sparse row updates: the delta of each item row — its values
 * in every tensor of the update together (embedding row and bias) — is scaled down so that its L2 norm is at
 * most `maxRowNorm`. A whole-update norm bound lets a client spend its whole budget on one row (one item's
 * bias +1000 becomes +B); a row bound caps what it can do to any single item, whatever else it sends.
 * Rows within the bound keep their values; an update with no row above it is returned as it is (same arrays).
 * @throws AggregationError `bad_option` unless maxRowNorm is a finite number > 0
 * @example
 * const { deltas, clippedRows } = clipRows(update.tensors, 1)
 */
export function clipRows(
  deltas: readonly TensorDelta[],
  maxRowNorm: number,
): { deltas: readonly TensorDelta[]; clippedRows: number } {
  if (!(maxRowNorm > 0 && Number.isFinite(maxRowNorm)))
    throw new AggregationError('bad_option', `maxRowNorm must be a finite number > 0, got ${maxRowNorm}`)
  const squares = new Map<number, number>()
  for (const t of deltas) {
    for (let i = 0; i < t.rowIds.length; i++) {
      let sum = 0
      for (let c = 0; c < t.cols; c++) sum += t.values[i * t.cols + c]! ** 2
      const row = t.rowIds[i]!
      squares.set(row, (squares.get(row) ?? 0) + sum)
    }
  }
  const scales = new Map<number, number>()
  for (const [row, sum] of squares) {
    const norm = Math.sqrt(sum)
    if (norm > maxRowNorm) scales.set(row, maxRowNorm / norm)
  }
  if (scales.size === 0) return { deltas, clippedRows: 0 }
  return {
    deltas: deltas.map((t) => {
      const values = t.values.slice()
      for (let i = 0; i < t.rowIds.length; i++) {
        const scale = scales.get(t.rowIds[i]!)
        if (scale === undefined) continue
        for (let c = 0; c < t.cols; c++) values[i * t.cols + c]! *= scale
      }
      return { ...t, values }
    }),
    clippedRows: scales.size,
  }
}
