// The privacy budget of DP-FedAvg: tracks how much ε the rounds so far have spent.
import { PrivacyError } from './errors.ts'
import { checkMechanism, DEFAULT_ORDERS, rdpToEpsilon, sampledGaussianRdp } from './rdp.ts'

/**
 * One round of the sampled Gaussian mechanism as the accountant sees it.
 * @example const round: GaussianRound = { sampleRate: 0.01, noiseMultiplier: 1.1 }
 */
export interface GaussianRound {
  /** q: the probability that a given shopper takes part in the round (1: everyone, no amplification). */
  sampleRate: number
  /** σ: noise standard deviation over the sensitivity (the clip norm). */
  noiseMultiplier: number
}

/**
 * A Rényi-DP accountant: the per-order RDP of every round composed so far (rounds may differ in q and σ).
 * @example
 * const acc = createRdpAccountant()
 * acc.compose({ sampleRate: 1, noiseMultiplier: 1 }, 10)
 * acc.epsilon(1e-5) // ε after ten full-participation rounds at σ = 1
 */
export interface RdpAccountant {
  /** Adds `count` rounds (default 1) of the given mechanism. @throws PrivacyError on bad q, σ or count */
  compose(round: GaussianRound, count?: number): void
  /** ε at `delta` over everything composed, with the best order (0 before any round). */
  spent(delta: number): { epsilon: number; order: number }
  /** ε at `delta`: `spent(delta).epsilon`. */
  epsilon(delta: number): number
  /** Rounds composed. */
  readonly rounds: number
  /** The orders tracked and a copy of the RDP at each. */
  rdp(): { orders: readonly number[]; rdp: Float64Array }
}

/**
 * Creates an empty accountant over `orders` (default {@link DEFAULT_ORDERS}, integers ≥ 2).
 * @example const acc = createRdpAccountant(); acc.compose({ sampleRate: 0.1, noiseMultiplier: 1 }); acc.epsilon(1e-5)
 */
export function createRdpAccountant(orders: readonly number[] = DEFAULT_ORDERS): RdpAccountant {
  if (orders.length === 0) throw new PrivacyError('bad_option', 'the accountant needs at least one order')
  const own = Object.freeze([...orders])
  const total = new Float64Array(own.length)
  // Rounds of a long run mostly repeat the same (q, σ): compute each distinct one once.
  const cache = new Map<string, Float64Array>()
  let rounds = 0
  const perRound = ({ sampleRate, noiseMultiplier }: GaussianRound): Float64Array => {
    const key = `${sampleRate}/${noiseMultiplier}`
    let rdp = cache.get(key)
    if (rdp === undefined) {
      rdp = Float64Array.from(own, (a) => sampledGaussianRdp(sampleRate, noiseMultiplier, a))
      cache.set(key, rdp)
    }
    return rdp
  }
  return {
    compose(round, count = 1) {
      checkMechanism(round.sampleRate, round.noiseMultiplier)
      if (!Number.isSafeInteger(count) || count < 0)
        throw new PrivacyError('bad_option', `count must be a non-negative integer, got ${count}`)
      const rdp = perRound(round)
      for (let i = 0; i < total.length; i++) total[i]! += count * rdp[i]!
      rounds += count
    },
    spent(delta) {
      const { epsilon, order } = rdpToEpsilon(own, total, delta)
      return { epsilon: rounds === 0 ? 0 : epsilon, order }
    },
    epsilon(delta) {
      return this.spent(delta).epsilon
    },
    get rounds() {
      return rounds
    },
    rdp() {
      return { orders: own, rdp: total.slice() }
    },
  }
}
