import { describe, expect, it } from 'vitest'
import { createRng } from './rng.ts'
import { negativeSampler } from './samples.ts'

describe('negativeSampler', () => {
  it('draws distinct untouched rows from a large catalogue (rejection sampling)', () => {
    const touched = new Map([1, 2, 3].map((r) => [r, 1]))
    const draw = negativeSampler(1000, touched, createRng(1))
    for (let i = 0; i < 50; i++) {
      const rows = draw(8)
      expect(new Set(rows).size).toBe(8)
      for (const r of rows) expect(r >= 0 && r < 1000 && !touched.has(r)).toBe(true)
    }
  })

  it('draws distinct untouched rows when most of a tiny catalogue is touched, up to all of them', () => {
    const touched = new Map([0, 1, 2, 3, 5, 7].map((r) => [r, 1]))
    const draw = negativeSampler(9, touched, createRng(2))
    expect(draw(3).sort((a, b) => a - b)).toEqual([4, 6, 8])
    const two = draw(2)
    expect(new Set(two).size).toBe(2)
    for (const r of two) expect([4, 6, 8]).toContain(r)
  })

  it('is the same for the same seed', () => {
    const touched = new Map([[5, 1]])
    expect(negativeSampler(100, touched, createRng(7))(10)).toEqual(
      negativeSampler(100, touched, createRng(7))(10),
    )
  })
})
