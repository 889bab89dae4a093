import { describe, expect, it } from 'vitest'
import { createRng } from './rng.ts'

describe('createRng', () => {
  it('replays the same sequence for the same seed', () => {
    const a = createRng(7)
    const b = createRng(7)
    const draws = (r: typeof a) => [r.next(), r.int(100), r.normal(), r.next()]
    expect(draws(a)).toEqual(draws(b))
  })

  it('gives a different sequence for a different seed', () => {
    expect(createRng(1).next()).not.toBe(createRng(2).next())
  })

  it('stays in range and looks uniform and normal', () => {
    const rng = createRng(123)
    const n = 20_000
    let sum = 0
    let sumN = 0
    let sumN2 = 0
    let outOfRange = 0
    const counts = new Array<number>(5).fill(0)
    for (let i = 0; i < n; i++) {
      const x = rng.next()
      if (!(x >= 0 && x < 1)) outOfRange++
      sum += x
      const k = rng.int(5)
      counts[k] = (counts[k] ?? 0) + 1
      const z = rng.normal()
      sumN += z
      sumN2 += z * z
    }
    expect(outOfRange).toBe(0)
    expect(sum / n).toBeCloseTo(0.5, 1)
    for (const c of counts) expect(c / n).toBeCloseTo(0.2, 1)
    expect(sumN / n).toBeCloseTo(0, 1)
    expect(sumN2 / n).toBeCloseTo(1, 1)
  })

  it('refuses a bad int bound', () => {
    expect(() => createRng(1).int(0)).toThrow(RangeError)
    expect(() => createRng(1).int(2.5)).toThrow(RangeError)
  })
})
