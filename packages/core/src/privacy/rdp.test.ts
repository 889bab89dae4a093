import { describe, expect, it } from 'vitest'
import { createRdpAccountant } from './accountant.ts'
import { PrivacyError } from './errors.ts'
import { classicRdpToEpsilon, computeRdp, DEFAULT_ORDERS, rdpToEpsilon, sampledGaussianRdp } from './rdp.ts'

describe('sampledGaussianRdp', () => {
  it('is the plain Gaussian α/(2σ²) at q = 1', () => {
    expect(sampledGaussianRdp(1, 2, 3)).toBeCloseTo(3 / 8, 15)
    expect(sampledGaussianRdp(1, 0.5, 10)).toBeCloseTo(10 / 0.5, 12)
  })

  it('matches the closed form of order 2 worked by hand: log(1 + q²(e^{1/σ²} − 1))', () => {
    // A_2 = (1−q)² + 2q(1−q) + q² e^{1/σ²} = 1 + q²(e^{1/σ²} − 1), and RDP(2) = log A_2 / (2 − 1).
    for (const [q, sigma] of [
      [0.01, 1],
      [0.3, 0.8],
      [0.9, 4],
    ] as const) {
      expect(sampledGaussianRdp(q, sigma, 2)).toBeCloseTo(Math.log1p(q * q * Math.expm1(1 / sigma ** 2)), 14)
    }
  })

  it('matches the numbers of TF Privacy / dp_accounting for q = 0.01, σ = 2.5, 50 steps', () => {
    // google/differential-privacy, python/dp_accounting/dp_accounting/rdp/rdp_privacy_accountant_test.py,
    // test_compute_rdp_poisson_sampled_gaussian: orders [1.5, 2.5, 5, 50, 100, inf] give
    // [6.70579741e-04, 1.08548710e-03, 2.18075656e-03, 2.38460375e-02, 1.67416308e02, inf], rtol 1e-4.
    // We track integer orders only, so the integer ones are compared.
    const rdp = computeRdp(0.01, 2.5, 50, [5, 50, 100])
    expect(rdp[0]! / 2.18075656e-3).toBeCloseTo(1, 4)
    expect(rdp[1]! / 2.38460375e-2).toBeCloseTo(1, 4)
    expect(rdp[2]! / 1.67416308e2).toBeCloseTo(1, 4)
  })

  it('costs nothing at q = 0 and is infinite without noise', () => {
    expect(sampledGaussianRdp(0, 1, 8)).toBe(0)
    expect(sampledGaussianRdp(0.5, 0, 8)).toBe(Number.POSITIVE_INFINITY)
  })

  it('stays finite and grows with the order where a naive sum would overflow', () => {
    // (k² − k)/(2σ²) at k = 256, σ = 0.5 is about 130,000: exp() of it is Infinity in float64.
    const values = [32, 64, 128, 256].map((a) => sampledGaussianRdp(0.001, 0.5, a))
    for (const v of values) expect(Number.isFinite(v)).toBe(true)
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!)
  })

  it('is amplified by sampling: smaller q, smaller RDP', () => {
    const at = (q: number) => sampledGaussianRdp(q, 1, 8)
    expect(at(0.01)).toBeLessThan(at(0.1))
    expect(at(0.1)).toBeLessThan(at(1))
  })

  it('refuses bad parameters', () => {
    expect(() => sampledGaussianRdp(1.5, 1, 2)).toThrow(PrivacyError)
    expect(() => sampledGaussianRdp(0.5, -1, 2)).toThrow(/noise multiplier/)
    expect(() => sampledGaussianRdp(0.5, 1, 2.5)).toThrow(/integers ≥ 2/)
    expect(() => computeRdp(0.5, 1, -1)).toThrow(/steps/)
  })
})

describe('rdpToEpsilon', () => {
  it('matches dp_accounting on constant RDP (pure DP) at δ = 1e-5', () => {
    // rdp_privacy_accountant_test.py, test_compute_epsilon_delta_pure_dp: orders 2..32, RDP 1.1 at every
    // order, δ = 1e-5 → ε = 1.32783806176 at order 32 (the conversion of Canonne et al. / Balle et al.).
    const orders = Array.from({ length: 31 }, (_, i) => i + 2)
    const { epsilon, order } = rdpToEpsilon(orders, new Float64Array(orders.length).fill(1.1), 1e-5)
    expect(epsilon).toBeCloseTo(1.32783806176, 9)
    expect(order).toBe(32)
  })

  it('the classic conversion is RDP + log(1/δ)/(α − 1), and never tighter', () => {
    expect(classicRdpToEpsilon([2], Float64Array.of(1), Math.exp(-1)).epsilon).toBeCloseTo(2, 14)
    const rdp = computeRdp(0.05, 1.1, 100)
    for (const delta of [1e-3, 1e-5, 1e-8]) {
      const tight = rdpToEpsilon(DEFAULT_ORDERS, rdp, delta).epsilon
      const classic = classicRdpToEpsilon(DEFAULT_ORDERS, rdp, delta).epsilon
      expect(tight).toBeLessThan(classic)
      expect(tight).toBeGreaterThan(0)
    }
  })

  it('is Infinity when every order is, and refuses δ outside (0, 1)', () => {
    expect(rdpToEpsilon([2, 3], Float64Array.of(Infinity, Infinity), 1e-5).epsilon).toBe(Infinity)
    expect(() => rdpToEpsilon([2], Float64Array.of(1), 0)).toThrow(/δ/)
    expect(() => rdpToEpsilon([2], Float64Array.of(1), 1)).toThrow(/δ/)
    expect(() => rdpToEpsilon([2, 3], Float64Array.of(1), 0.1)).toThrow(/one RDP value per order/)
  })
})

describe('createRdpAccountant', () => {
  it('composes by adding RDP order by order, also over rounds of different q and σ', () => {
    const acc = createRdpAccountant([2, 8, 32])
    acc.compose({ sampleRate: 1, noiseMultiplier: 2 }, 3)
    acc.compose({ sampleRate: 0.1, noiseMultiplier: 1 })
    const expected = [2, 8, 32].map((a) => (3 * a) / 8 + sampledGaussianRdp(0.1, 1, a))
    const { rdp } = acc.rdp()
    for (const [i, e] of expected.entries()) expect(rdp[i]).toBeCloseTo(e, 12)
    expect(acc.rounds).toBe(4)
  })

  it('reports 0 before any round, and ε grows with every round', () => {
    const acc = createRdpAccountant()
    expect(acc.epsilon(1e-5)).toBe(0)
    let last = 0
    for (let r = 0; r < 20; r++) {
      acc.compose({ sampleRate: 1, noiseMultiplier: 1 })
      const e = acc.epsilon(1e-5)
      expect(e).toBeGreaterThan(last)
      last = e
    }
  })

  it('gives the Gaussian mechanism a guarantee close to its exact one', () => {
    // One Gaussian release with σ = 4.530877117 is exactly (1, 1e-6)-DP (dp_accounting's
    // test_compute_epsilon_delta_gaussian, with fine fractional orders). Integer orders can only be a little
    // looser, never tighter (which would be a wrong bound).
    const acc = createRdpAccountant()
    acc.compose({ sampleRate: 1, noiseMultiplier: 4.530877117 })
    const e = acc.epsilon(1e-6)
    expect(e).toBeGreaterThanOrEqual(1 - 1e-6)
    expect(e).toBeLessThan(1.1)
  })

  it('refuses a bad round without changing its state', () => {
    const acc = createRdpAccountant()
    acc.compose({ sampleRate: 1, noiseMultiplier: 1 })
    const before = acc.epsilon(1e-5)
    expect(() => acc.compose({ sampleRate: -0.1, noiseMultiplier: 1 })).toThrow(PrivacyError)
    expect(() => acc.compose({ sampleRate: 1, noiseMultiplier: 1 }, 1.5)).toThrow(/count/)
    expect(acc.epsilon(1e-5)).toBe(before)
    expect(acc.rounds).toBe(1)
  })
})
