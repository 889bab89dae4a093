// The QA kit's seeded randomness, behind its generated histories, its evaluation samples and the benchmarks.

/**
 * A small seeded PRNG (mulberry32), so a scenario with the same seed picks the same items.
 * @example const rng = seeded(7); rng() // 0 ≤ x < 1
 */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `n` distinct elements of `xs` (all of them when there are fewer), in random order. */
export function sample<T>(xs: readonly T[], n: number, rng: () => number): T[] {
  const copy = [...xs]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy.slice(0, n)
}
