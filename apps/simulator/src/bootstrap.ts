// The noise estimate of a paired comparison over shoppers: a percentile bootstrap of the mean difference.
import { createRng } from '@fedrec/core/client'

/** A mean and its two-sided confidence interval. */
export interface Interval {
  mean: number
  low: number
  high: number
}

/**
 * The mean of `values` (one per shopper, e.g. model minus baseline for the same shopper) and its
 * percentile-bootstrap interval: `resamples` times, draw as many shoppers with replacement and take their
 * mean; the interval is the (1 − level)/2 and (1 + level)/2 quantiles of those means. Seeded, so a run
 * replays. An interval that covers 0 means the difference is within noise.
 * @example const gain = bootstrapMean(differences, { seed: 1 }) // { mean: 0.021, low: 0.004, high: 0.038 }
 */
export function bootstrapMean(
  values: ArrayLike<number>,
  { resamples = 2000, level = 0.95, seed }: { resamples?: number; level?: number; seed: number },
): Interval {
  const n = values.length
  if (n === 0) return { mean: 0, low: 0, high: 0 }
  let sum = 0
  for (let i = 0; i < n; i++) sum += values[i]!
  const rng = createRng(seed)
  const means = new Float64Array(resamples)
  for (let b = 0; b < resamples; b++) {
    let s = 0
    for (let i = 0; i < n; i++) s += values[rng.int(n)]!
    means[b] = s / n
  }
  means.sort()
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))]!
  return { mean: sum / n, low: at((1 - level) / 2), high: at((1 + level) / 2) }
}
