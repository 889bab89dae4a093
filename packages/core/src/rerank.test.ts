import { describe, expect, it } from 'vitest'
import { rerankByScore } from './rerank.ts'

describe('rerankByScore', () => {
  it('orders by descending score', () => {
    const scores: Record<string, number> = { a: 0.1, b: 0.9, c: 0.5 }
    expect(rerankByScore(['a', 'b', 'c'], (id) => scores[id]!)).toEqual(['b', 'c', 'a'])
  })

  it("keeps the shop's default order among equal scores", () => {
    const scores: Record<string, number> = { a: 1, b: 2, c: 1, d: 2, e: 1 }
    expect(rerankByScore(['a', 'b', 'c', 'd', 'e'], (id) => scores[id]!)).toEqual(['b', 'd', 'a', 'c', 'e'])
  })

  it('puts NaN scores after every number, below -Infinity, in default order', () => {
    const scores = [Number.NaN, Number.NEGATIVE_INFINITY, Number.NaN, -5]
    expect(rerankByScore(['w', 'x', 'y', 'z'], (_, i) => scores[i]!)).toEqual(['z', 'x', 'w', 'y'])
  })

  it('passes each candidate with its default position, and leaves the input alone', () => {
    const input = [30, 10, 20] as const
    const seen: [number, number][] = []
    const out = rerankByScore(input, (value, index) => {
      seen.push([value, index])
      return value
    })
    expect(out).toEqual([30, 20, 10])
    expect(seen).toEqual([
      [30, 0],
      [10, 1],
      [20, 2],
    ])
    expect(input).toEqual([30, 10, 20])
  })

  it('returns an empty list for no candidates', () => {
    expect(rerankByScore([], () => 1)).toEqual([])
  })
})
