// The Rényi-DP maths under the accountant: a sampled Gaussian round's privacy cost per order, and its
// conversion to (ε, δ).
import { PrivacyError } from './errors.ts'

/**
 * The Rényi orders the accountant tracks: every integer from 2 to 64, then coarser up to 256. Integer orders
 * only, because the sampled Gaussian's RDP has an exact finite sum there (below); a few high orders matter
 * only for very small ε, where the optimum moves up.
 */
export const DEFAULT_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 63 }, (_, i) => i + 2),
  72,
  80,
  96,
  112,
  128,
  160,
  192,
  224,
  256,
])

/** log(e^a + e^b) without overflow. */
function logAdd(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b
  if (b === Number.NEGATIVE_INFINITY) return a
  const hi = Math.max(a, b)
  return hi + Math.log1p(Math.exp(Math.min(a, b) - hi))
}

/**
 * The Rényi DP of order `order` of one round of the Poisson-sampled Gaussian mechanism with sensitivity 1
 * under add/remove-one adjacency: each record is in the batch with probability `sampleRate` (q) and
 * N(0, σ²) noise is added to the sum (σ = `noiseMultiplier`). For integer α > 1 (Mironov, Talwar and Zhang
 * 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism", Section 3.3):
 *
 *   RDP(α) = log A_α / (α − 1),  A_α = Σ_{k=0..α} C(α, k) (1 − q)^(α−k) q^k exp((k² − k) / (2σ²))
 *
 * summed in log space so that large α and small σ do not overflow. q = 1 is the plain Gaussian, α / (2σ²);
 * q = 0 costs nothing; σ = 0 (no noise) is Infinity.
 * @throws PrivacyError `bad_option` for q outside [0, 1], σ < 0 or a non-integer order < 2
 * @example sampledGaussianRdp(1, 2, 3) // 3 / (2 * 4) = 0.375
 */
export function sampledGaussianRdp(sampleRate: number, noiseMultiplier: number, order: number): number {
  checkMechanism(sampleRate, noiseMultiplier)
  if (!Number.isInteger(order) || order < 2)
    throw new PrivacyError('bad_option', `RDP orders must be integers ≥ 2, got ${order}`)
  if (sampleRate === 0) return 0
  if (noiseMultiplier === 0) return Number.POSITIVE_INFINITY
  const variance = noiseMultiplier * noiseMultiplier
  if (sampleRate === 1) return order / (2 * variance)
  const logQ = Math.log(sampleRate)
  const log1mQ = Math.log1p(-sampleRate)
  let logA = Number.NEGATIVE_INFINITY
  let logBinomial = 0 // log C(α, 0)
  for (let k = 0; k <= order; k++) {
    if (k > 0) logBinomial += Math.log(order - k + 1) - Math.log(k)
    const term = logBinomial + k * logQ + (order - k) * log1mQ + (k * k - k) / (2 * variance)
    logA = logAdd(logA, term)
  }
  return logA / (order - 1)
}

/**
 * The RDP at every order of `orders` of `steps` rounds of the sampled Gaussian mechanism: RDP composes by
 * addition at each order.
 * @example computeRdp(0.01, 2.5, 50, [5, 50]) // ≈ [2.18e-3, 2.38e-2]
 */
export function computeRdp(
  sampleRate: number,
  noiseMultiplier: number,
  steps: number,
  orders: readonly number[] = DEFAULT_ORDERS,
): Float64Array {
  if (!Number.isSafeInteger(steps) || steps < 0)
    throw new PrivacyError('bad_option', `steps must be a non-negative integer, got ${steps}`)
  const out = new Float64Array(orders.length)
  for (let i = 0; i < orders.length; i++) {
    out[i] = steps === 0 ? 0 : steps * sampledGaussianRdp(sampleRate, noiseMultiplier, orders[i]!)
  }
  return out
}

/**
 * Converts RDP at several orders into an (ε, δ) guarantee, taking the best order. Uses the conversion of
 * Canonne, Kamath and Steinke 2020 (Proposition 12; also Balle et al. 2020, Theorem 21), as TF Privacy's
 * `dp_accounting` and Opacus do:
 *
 *   ε = RDP(α) + log((α − 1) / α) − (log δ + log α) / (α − 1)
 *
 * which is never worse than the classic ε = RDP(α) + log(1/δ) / (α − 1) of Mironov 2017, Proposition 3
 * ({@link classicRdpToEpsilon}). ε is at least 0; Infinity when every order is infinite.
 * @throws PrivacyError `bad_option` for δ outside (0, 1) or mismatched lengths
 * @example rdpToEpsilon([2, 3], Float64Array.of(0.25, 0.375), 1e-5) // { epsilon: …, order: 3 }
 */
export function rdpToEpsilon(
  orders: readonly number[],
  rdp: ArrayLike<number>,
  delta: number,
): { epsilon: number; order: number } {
  return bestOrder(orders, rdp, delta, (a, r, logDelta) => {
    return r + Math.log1p(-1 / a) - (logDelta + Math.log(a)) / (a - 1)
  })
}

/**
 * The classic conversion ε = min_α RDP(α) + log(1/δ) / (α − 1) (Mironov 2017, Proposition 3), looser than
 * {@link rdpToEpsilon}; kept to check the tighter one against and for readers who know only this one.
 * @example classicRdpToEpsilon([2], Float64Array.of(1), Math.exp(-1)) // { epsilon: 2, order: 2 }
 */
export function classicRdpToEpsilon(
  orders: readonly number[],
  rdp: ArrayLike<number>,
  delta: number,
): { epsilon: number; order: number } {
  return bestOrder(orders, rdp, delta, (a, r, logDelta) => r - logDelta / (a - 1))
}

function bestOrder(
  orders: readonly number[],
  rdp: ArrayLike<number>,
  delta: number,
  convert: (order: number, rdp: number, logDelta: number) => number,
): { epsilon: number; order: number } {
  if (!(delta > 0 && delta < 1)) throw new PrivacyError('bad_option', `δ must be in (0, 1), got ${delta}`)
  if (orders.length !== rdp.length || orders.length === 0)
    throw new PrivacyError(
      'bad_option',
      `need one RDP value per order, got ${rdp.length} values for ${orders.length} orders`,
    )
  const logDelta = Math.log(delta)
  let epsilon = Number.POSITIVE_INFINITY
  let order = orders[0]!
  for (let i = 0; i < orders.length; i++) {
    const a = orders[i]!
    const r = rdp[i]!
    if (!(a > 1)) throw new PrivacyError('bad_option', `RDP orders must be > 1, got ${a}`)
    if (Number.isNaN(r) || r < 0)
      throw new PrivacyError('bad_option', `RDP must be ≥ 0, got ${r} at order ${a}`)
    const e = convert(a, r, logDelta)
    if (e < epsilon) {
      epsilon = e
      order = a
    }
  }
  return { epsilon: Math.max(0, epsilon), order }
}

/** @internal Shared range checks of q and σ. */
export function checkMechanism(sampleRate: number, noiseMultiplier: number): void {
  if (!(sampleRate >= 0 && sampleRate <= 1))
    throw new PrivacyError('bad_option', `the sampling rate q must be in [0, 1], got ${sampleRate}`)
  if (!(noiseMultiplier >= 0 && Number.isFinite(noiseMultiplier)))
    throw new PrivacyError(
      'bad_option',
      `the noise multiplier σ must be a finite number ≥ 0, got ${noiseMultiplier}`,
    )
}
