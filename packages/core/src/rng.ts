// The one source of randomness of core's training and the simulator's sampling, always seeded by the caller.

/** A seeded source of randomness, so simulations and tests replay exactly. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in 0..n-1; `n` must be a positive integer. */
  int(n: number): number
  /** Standard normal (mean 0, variance 1). */
  normal(): number
}

/**
 * Creates a deterministic generator (mulberry32: 32-bit state, fast, good enough for sampling and
 * initialisation; not for cryptography — client ids come from `crypto.getRandomValues`).
 * @example
 * const rng = createRng(42)
 * const shuffledIndex = rng.int(10) // the same for every run seeded with 42
 */
export function createRng(seed: number): Rng {
  // `>>> 0` folds any number (negative, fractional, > 2^32) into a valid 32-bit state.
  let state = Math.trunc(seed) >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int(n: number): number {
      if (!Number.isInteger(n) || n <= 0) throw new RangeError(`rng.int needs a positive integer, got ${n}`)
      return Math.floor(next() * n)
    },
    normal(): number {
      // Box–Muller; 1 - next() is in (0, 1], so the log never sees 0.
      const u = 1 - next()
      const v = next()
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    },
  }
}
