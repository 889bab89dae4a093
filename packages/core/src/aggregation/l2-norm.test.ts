import { describe, expect, it } from 'vitest'
import { l2Norm } from './l2-norm.ts'

describe('l2Norm', () => {
  it('is √(Σ x²)', () => {
    expect(l2Norm(Float32Array.of(3, 4))).toBe(5) // √(9 + 16)
    expect(l2Norm([1, -2, 2])).toBe(3) // √(1 + 4 + 4)
    expect(l2Norm([])).toBe(0)
    expect(l2Norm(new Float32Array(8))).toBe(0)
  })

  it('does not overflow on huge values and reports NaN and Infinity', () => {
    expect(l2Norm(Float64Array.of(3e200, 4e200))).toBeCloseTo(5e200, -190)
    expect(l2Norm([1, Number.NaN])).toBeNaN()
    expect(l2Norm([1, Number.NEGATIVE_INFINITY])).toBe(Number.POSITIVE_INFINITY)
  })
})
