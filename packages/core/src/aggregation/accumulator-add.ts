// Adding one client's sparse update to the accumulator's sums: checked whole first, then applied.
import type { TensorDelta } from '@fedrec/protocol'
import { type AccumulatorState, isPositiveInteger } from './accumulator-state.ts'
import type { TensorShape } from './accumulator-types.ts'
import { AggregationError } from './errors.ts'

/**
 * Adds one client's sparse deltas weighted by its sample count (weight 1, clipped, under DP); throws
 * `AggregationError` before mutating anything.
 * @example
 * addUpdate(state, { sampleCount: 3, tensors: [{ name: 'item_bias', cols: 1, rowIds: Uint32Array.of(0), values: Float32Array.of(1) }] })
 */
export function addUpdate(
  state: AccumulatorState,
  update: { sampleCount: number; tensors: readonly TensorDelta[] },
): void {
  const { sums, dp } = state
  // Validate the whole update first: a half-applied update would silently corrupt the round.
  const n = update.sampleCount
  if (!isPositiveInteger(n)) {
    throw new AggregationError('bad_sample_count', `sampleCount must be a positive integer, got ${n}`)
  }
  const seen = new Set<string>()
  for (const delta of update.tensors) {
    if (seen.has(delta.name)) {
      throw new AggregationError('duplicate_tensor', `tensor "${delta.name}" appears twice in one update`)
    }
    seen.add(delta.name)
    const target = sums.get(delta.name)
    if (target === undefined) {
      throw new AggregationError('unknown_tensor', `unknown tensor "${delta.name}"`)
    }
    checkDelta(delta, target.shape)
  }

  // Under DP each update weighs 1, scaled (in float64) so that its norm is at most S.
  let weight = n
  if (dp !== undefined) {
    let squares = 0
    for (const delta of update.tensors) for (const v of delta.values) squares += v * v
    const norm = Math.sqrt(squares)
    weight = norm > dp.clipNorm ? dp.clipNorm / norm : 1
    if (norm > dp.clipNorm) state.clipped += 1
  }
  for (const delta of update.tensors) {
    const target = sums.get(delta.name)!
    const { cols } = target.shape
    const { rowIds, values } = delta
    for (let i = 0; i < rowIds.length; i++) {
      const row = rowIds[i]!
      const dst = row * cols
      const src = i * cols
      for (let c = 0; c < cols; c++) target.weighted[dst + c]! += weight * values[src + c]!
      if (target.rowWeights !== undefined) target.rowWeights[row]! += n
    }
  }
  state.participants += 1
  state.samples += n
}

function checkDelta(delta: TensorDelta, shape: TensorShape): void {
  const { name, cols, rowIds, values } = delta
  if (cols !== shape.cols) {
    throw new AggregationError(
      'shape_mismatch',
      `tensor "${name}" has ${shape.cols} cols, the update says ${cols}`,
    )
  }
  if (values.length !== rowIds.length * cols) {
    throw new AggregationError(
      'shape_mismatch',
      `tensor "${name}": ${rowIds.length} rows x ${cols} cols needs ${rowIds.length * cols} values, got ${values.length}`,
    )
  }
  let previous = -1
  for (let i = 0; i < rowIds.length; i++) {
    const row = rowIds[i]!
    if (row <= previous) {
      throw new AggregationError(
        'bad_row_ids',
        `tensor "${name}": row ids must be strictly ascending, got ${row} after ${previous} at index ${i}`,
      )
    }
    if (row >= shape.rows) {
      throw new AggregationError(
        'row_out_of_range',
        `tensor "${name}" has ${shape.rows} rows, got row id ${row} at index ${i}`,
      )
    }
    previous = row
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (!Number.isFinite(v)) {
      throw new AggregationError('non_finite', `tensor "${name}": value ${v} at index ${i} is not finite`)
    }
  }
}
