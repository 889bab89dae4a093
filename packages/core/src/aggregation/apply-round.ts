// The step that turns a round's mean delta into the next model, shared by the aggregator and the in-process
// simulator.
import { AggregationError } from './errors.ts'
import type { ServerOptimizer, ServerOptimizerState } from './server-optimizer.ts'

/**
 * Applies one round's server step to every tensor of `meanDelta` (usually `accumulator.result()`), in place
 * on `params`, creating a tensor's optimizer state in `state` on first use. Tensors of `params` absent from
 * `meanDelta` are left alone, their state included. All shapes are checked before any tensor is touched.
 * Returns the L2 norm of the change actually applied to the parameters, over all tensors, for the dashboard.
 * @example
 * const state = new Map<string, ServerOptimizerState>()
 * const { updateNorm } = applyRound(params, acc.result(), createServerOptimizer({ name: 'fedavg' }), state)
 */
export function applyRound(
  params: Map<string, Float32Array>,
  meanDelta: Map<string, Float32Array>,
  optimizer: ServerOptimizer,
  state: Map<string, ServerOptimizerState>,
): { updateNorm: number } {
  for (const [name, delta] of meanDelta) {
    const target = params.get(name)
    if (target === undefined) {
      throw new AggregationError('unknown_tensor', `mean delta names tensor "${name}" that the model lacks`)
    }
    if (target.length !== delta.length) {
      throw new AggregationError(
        'shape_mismatch',
        `tensor "${name}" has ${target.length} values, its mean delta ${delta.length}`,
      )
    }
    const s = state.get(name)
    for (const key of ['m', 'v'] as const) {
      const buffer = s?.[key]
      if (buffer !== undefined && buffer.length !== target.length) {
        throw new AggregationError(
          'shape_mismatch',
          `tensor "${name}" has ${target.length} values, its optimizer state.${key} ${buffer.length}`,
        )
      }
    }
    for (let i = 0; i < delta.length; i++) {
      if (!Number.isFinite(delta[i]!)) {
        throw new AggregationError('non_finite', `mean delta of "${name}": value ${delta[i]} at index ${i}`)
      }
    }
  }

  // Summed in float64 over the applied (float32-rounded) change, so the norm is what the model really moved.
  let sumSquares = 0
  for (const [name, delta] of meanDelta) {
    const target = params.get(name)!
    const before = target.slice()
    let s = state.get(name)
    if (s === undefined) {
      s = {}
      state.set(name, s)
    }
    state.set(name, optimizer.step(target, delta, s))
    for (let i = 0; i < target.length; i++) {
      const change = target[i]! - before[i]!
      sumSquares += change * change
    }
  }
  return { updateNorm: Math.sqrt(sumSquares) }
}
