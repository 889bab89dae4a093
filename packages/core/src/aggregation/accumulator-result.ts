// The accumulator's round result: the weighted mean delta per tensor, or DP-FedAvg's noisy mean.
import { addGaussianNoise } from '../privacy/gaussian-noise.ts'
import type { AccumulatorState, TensorSums } from './accumulator-state.ts'
import type { DpAggregation } from './accumulator-types.ts'
import { AggregationError } from './errors.ts'

/**
 * Fresh dense means per tensor, normalised as the state's `RowNormalization` says; the sums stay as they are.
 * @example
 * const meanDelta = meanDeltas(state).get('item_bias')
 */
export function meanDeltas(state: AccumulatorState): Map<string, Float32Array> {
  const { sums, dp, participants, samples } = state
  if (dp !== undefined) return noisyMean(sums, dp)
  if (participants === 0) {
    throw new AggregationError('no_updates', 'no update was added, the mean delta is undefined')
  }
  const out = new Map<string, Float32Array>()
  for (const [name, { shape, weighted, rowWeights, floorClients }] of sums) {
    const mean = new Float32Array(weighted.length)
    if (rowWeights === undefined) {
      for (let i = 0; i < weighted.length; i++) mean[i] = weighted[i]! / samples
    } else {
      // Capped at 'all': a floor never divides by more than the round's samples.
      const floor = Math.min((floorClients * samples) / participants, samples)
      for (let r = 0; r < shape.rows; r++) {
        if (rowWeights[r] === 0) continue
        const w = Math.max(rowWeights[r]!, floor)
        const base = r * shape.cols
        for (let c = 0; c < shape.cols; c++) mean[base + c] = weighted[base + c]! / w
      }
    }
    out.set(name, mean)
  }
  return out
}

/** (Σ clipped Δ_k + N(0, σ²S²)) / denominator for every coordinate of every tensor; the sums stay as they are. */
function noisyMean(sums: ReadonlyMap<string, TensorSums>, dp: DpAggregation): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>()
  for (const [name, { weighted }] of sums) {
    const noisy = weighted.slice()
    addGaussianNoise(noisy, dp.noiseMultiplier * dp.clipNorm, dp.random)
    const mean = new Float32Array(noisy.length)
    for (let i = 0; i < noisy.length; i++) mean[i] = noisy[i]! / dp.denominator
    out.set(name, mean)
  }
  return out
}
