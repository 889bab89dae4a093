import { describe, expect, it } from 'vitest'
import { clipDeltas, deltasNorm } from './clip.ts'
import { addGaussianNoise } from './gaussian-noise.ts'

describe('addGaussianNoise', () => {
  it('adds zero-mean noise of the asked standard deviation to every element', () => {
    const n = 200_000
    const x = new Float64Array(n).fill(5)
    addGaussianNoise(x, 2)
    let sum = 0
    let squares = 0
    let within1 = 0
    for (const v of x) {
      sum += v - 5
      squares += (v - 5) ** 2
      if (Math.abs(v - 5) < 2) within1 += 1
    }
    const mean = sum / n
    const variance = squares / n - mean * mean
    // Standard errors: mean 2/√n ≈ 0.0045, variance ≈ 4·√(2/n) ≈ 0.013; margins of about 5 of them.
    expect(Math.abs(mean)).toBeLessThan(0.025)
    expect(Math.abs(variance - 4)).toBeLessThan(0.07)
    // Normal, not just the right variance: 68.27 % within one standard deviation.
    expect(within1 / n).toBeCloseTo(0.6827, 2)
    // Every element moved (an odd length's last one too).
    const odd = new Float64Array(3)
    addGaussianNoise(odd, 1)
    for (const v of odd) expect(v).not.toBe(0)
  })

  it('draws fresh noise on every call from the secure source, not a seeded sequence', () => {
    const a = new Float64Array(8)
    const b = new Float64Array(8)
    addGaussianNoise(a, 1)
    addGaussianNoise(b, 1)
    expect([...a]).not.toEqual([...b])
  })

  it('uses the random words it is given (Box–Muller: u1 = 1 gives zero noise)', () => {
    const x = new Float64Array(4)
    addGaussianNoise(x, 3, (words) => words.fill(0))
    expect([...x]).toEqual([0, 0, 0, 0])
    expect(() => addGaussianNoise(x, Number.NaN)).toThrow(/standard deviation/)
  })
})

describe('clipDeltas', () => {
  const deltas = [
    { name: 'item_embedding', cols: 2, rowIds: Uint32Array.of(3), values: Float32Array.of(3, 0) },
    { name: 'item_bias', cols: 1, rowIds: Uint32Array.of(3), values: Float32Array.of(4) },
  ]

  it('scales the whole update to the bound and keeps its direction', () => {
    expect(deltasNorm(deltas)).toBe(5)
    const { deltas: out, norm, clipped } = clipDeltas(deltas, 1)
    expect(clipped).toBe(true)
    expect(norm).toBe(5)
    expect(deltasNorm(out)).toBeCloseTo(1, 6)
    expect([...out[0]!.values]).toEqual([Math.fround(0.6), 0])
    expect([...out[1]!.values]).toEqual([Math.fround(0.8)])
  })

  it('leaves an update within the bound as it is, and refuses a bad bound', () => {
    const { deltas: out, clipped } = clipDeltas(deltas, 5)
    expect(clipped).toBe(false)
    expect(out).toBe(deltas)
    expect(() => clipDeltas(deltas, 0)).toThrow(/clipNorm/)
  })
})
