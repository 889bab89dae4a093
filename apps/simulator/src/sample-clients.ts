// Drawing a round's cohort: k distinct shoppers of the pool, from the run's sampler.
import type { createRng } from '@fedrec/core/client'

/**
 * Draws `k` distinct shoppers of `pool` for a round (a partial Fisher–Yates on a copy).
 * @example sampleClients([0, 1, 2, 3], 2, createRng(1)) // e.g. [2, 0]
 */
export function sampleClients(
  pool: readonly number[],
  k: number,
  rng: ReturnType<typeof createRng>,
): number[] {
  const a = pool.slice()
  const m = Math.min(k, a.length)
  for (let j = 0; j < m; j++) {
    const i = j + rng.int(a.length - j)
    ;[a[j], a[i]] = [a[i]!, a[j]!]
  }
  return a.slice(0, m)
}
