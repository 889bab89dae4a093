// Adding an aggregate of many updates at once (as secure aggregation delivers it): checked whole, then applied.

import { type AccumulatorState, isPositiveInteger } from './accumulator-state.ts'
import type { AggregateSum } from './accumulator-types.ts'
import { AggregationError } from './errors.ts'

/**
 * Adds Σ n_k·Δ_k (and, for 'touched', Σ n_k per row) of `sum.participants` updates; throws
 * `AggregationError` before mutating anything.
 * @example
 * addSum(state, { participants: 2, samples: 7, tensors: [{ name: 'item_bias', weighted: Float64Array.of(3, 0) }] })
 */
export function addSum(state: AccumulatorState, sum: AggregateSum): void {
  const { sums } = state
  if (!isPositiveInteger(sum.participants)) {
    throw new AggregationError(
      'bad_sample_count',
      `participants must be a positive integer, got ${sum.participants}`,
    )
  }
  if (!(Number.isFinite(sum.samples) && sum.samples > 0)) {
    throw new AggregationError('bad_sample_count', `samples must be a positive number, got ${sum.samples}`)
  }
  const seen = new Set<string>()
  for (const t of sum.tensors) {
    const target = sums.get(t.name)
    if (target === undefined) throw new AggregationError('unknown_tensor', `unknown tensor "${t.name}"`)
    if (seen.has(t.name)) throw new AggregationError('duplicate_tensor', `tensor "${t.name}" appears twice`)
    seen.add(t.name)
    const { rows, cols } = target.shape
    if (t.weighted.length !== rows * cols || (t.rowWeights !== undefined && t.rowWeights.length !== rows)) {
      throw new AggregationError(
        'shape_mismatch',
        `tensor "${t.name}" needs ${rows}x${cols} sums and ${rows} row weights`,
      )
    }
    if (target.rowWeights !== undefined && t.rowWeights === undefined) {
      throw new AggregationError('shape_mismatch', `'touched' normalisation needs rowWeights for "${t.name}"`)
    }
    for (const v of t.weighted) {
      if (!Number.isFinite(v))
        throw new AggregationError('non_finite', `tensor "${t.name}" has a non-finite sum`)
    }
  }
  for (const t of sum.tensors) {
    const target = sums.get(t.name)!
    for (let i = 0; i < t.weighted.length; i++) target.weighted[i]! += t.weighted[i]!
    if (target.rowWeights !== undefined) {
      for (let r = 0; r < target.rowWeights.length; r++) target.rowWeights[r]! += t.rowWeights![r]!
    }
  }
  state.participants += sum.participants
  state.samples += sum.samples
}
