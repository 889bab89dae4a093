import { describe, expect, it } from 'vitest'
import { float16Bits, float16Value, roundToFloat16 } from './float16.ts'

describe('float16', () => {
  it('round-trips every finite float16 bit pattern exactly', () => {
    const wrong: number[] = []
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) !== 0x7c00 && float16Bits(float16Value(h)) !== h) wrong.push(h)
    }
    expect(wrong).toEqual([])
  })

  it('knows the landmarks', () => {
    expect(float16Value(0x3c00)).toBe(1)
    expect(float16Value(0xc000)).toBe(-2)
    expect(float16Value(0x7bff)).toBe(65504)
    expect(float16Value(0x0001)).toBe(2 ** -24)
    expect(float16Value(0x0400)).toBe(2 ** -14)
    expect(Object.is(float16Value(0x8000), -0)).toBe(true)
    expect(float16Value(0x7c00)).toBe(Number.POSITIVE_INFINITY)
    expect(float16Value(0x7e00)).toBeNaN()
    expect(float16Bits(65536)).toBe(0x7c00)
    expect(float16Bits(Number.NEGATIVE_INFINITY)).toBe(0xfc00)
    expect(float16Bits(2 ** -26)).toBe(0)
  })

  it('rounds toward zero: the float16 below in magnitude, never the one above', () => {
    const values = new Float32Array(20_000)
    for (let i = 0; i < values.length; i++)
      values[i] = ((Math.sin(i * 12.9898) * 43758.5453) % 1) * 10 ** ((i % 9) - 6)
    const wrong: number[] = []
    for (const x of values) {
      const h = float16Bits(x)
      // |y| ≤ |x| < the next float16 away from zero: y is the nearest float16 towards zero.
      const below = Math.abs(float16Value(h)) <= Math.abs(x)
      const next = Math.abs(float16Value((h & 0x7fff) + 1)) > Math.abs(x)
      if (!below || !next || Math.sign(float16Value(h)) * Math.sign(x) < 0) wrong.push(x)
    }
    expect(wrong).toEqual([])
    expect(roundToFloat16(values)).toEqual(values.map((x) => float16Value(float16Bits(x))))
  })
})
