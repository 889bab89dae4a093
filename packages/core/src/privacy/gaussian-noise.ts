// The noise that makes a round's sum differentially private, drawn from a secure source so nobody can
// subtract it.
import { PrivacyError } from './errors.ts'

/**
 * Fills a buffer with uniformly random 32-bit words. The default is WebCrypto's `getRandomValues` (in
 * browsers and Node 20): DP noise must not be predictable, and a seeded generator such as `createRng`
 * (mulberry32, 32 bits of state) is — whoever learns or guesses the seed can subtract the noise.
 */
export type RandomWords = (buffer: Uint32Array) => void

/** getRandomValues fills at most 65,536 bytes per call. */
const CHUNK_WORDS = 16_384

// Typed here rather than through the DOM or Node typings: core is neither (as protocol's platform.ts).
interface WithCrypto {
  crypto?: { getRandomValues?(array: Uint32Array): Uint32Array }
}

const cryptoWords: RandomWords = (buffer) => {
  const crypto = (globalThis as WithCrypto).crypto
  if (crypto?.getRandomValues === undefined)
    throw new PrivacyError('bad_option', 'no WebCrypto getRandomValues here: DP noise needs a secure source')
  for (let start = 0; start < buffer.length; start += CHUNK_WORDS)
    crypto.getRandomValues(buffer.subarray(start, Math.min(buffer.length, start + CHUNK_WORDS)))
}

/**
 * Adds independent N(0, stddev²) noise to every element of `target`, in place: Box–Muller on 53-bit
 * uniforms built from pairs of secure random words (two words per normal draw, four per pair of draws).
 * @example addGaussianNoise(sums, noiseMultiplier * clipNorm)
 */
export function addGaussianNoise(
  target: Float64Array,
  stddev: number,
  random: RandomWords = cryptoWords,
): void {
  if (!(stddev >= 0 && Number.isFinite(stddev)))
    throw new PrivacyError(
      'bad_option',
      `the noise standard deviation must be a finite number ≥ 0, got ${stddev}`,
    )
  if (stddev === 0 || target.length === 0) return
  const pairs = Math.ceil(target.length / 2)
  const words = new Uint32Array(Math.min(pairs, CHUNK_WORDS) * 4)
  let pair = 0
  while (pair < pairs) {
    const n = Math.min(pairs - pair, words.length / 4)
    random(words.subarray(0, n * 4))
    for (let j = 0; j < n; j++) {
      // u1 in (0, 1] so log(u1) is finite; u2 in [0, 1).
      const u1 = 1 - uniform53(words[4 * j]!, words[4 * j + 1]!)
      const u2 = uniform53(words[4 * j + 2]!, words[4 * j + 3]!)
      const radius = stddev * Math.sqrt(-2 * Math.log(u1))
      const i = 2 * (pair + j)
      target[i]! += radius * Math.cos(2 * Math.PI * u2)
      if (i + 1 < target.length) target[i + 1]! += radius * Math.sin(2 * Math.PI * u2)
    }
    pair += n
  }
}

/** A uniform double in [0, 1) from 53 random bits (27 of `hi`, 26 of `lo`), as a float has. */
function uniform53(hi: number, lo: number): number {
  return ((hi >>> 5) * 67_108_864 + (lo >>> 6)) / 9_007_199_254_740_992
}
