import { decodeModel, encodeModel, ITEM_BIAS, ITEM_EMBEDDING } from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { hasPopularitySignal, nearestRow, popularFromSnapshot, topByBias } from './suggest.ts'

describe('popularity and "why this?" without tfjs', () => {
  it('ranks by bias, best first, ties by row, skipping what it is told to', () => {
    const bias = Float32Array.of(0.1, 0.5, 0.3, 0.5, -1)
    expect(topByBias(bias, 3)).toEqual([
      { row: 1, score: 0.5 },
      { row: 3, score: 0.5 },
      { row: 2, score: expect.closeTo(0.3, 6) },
    ])
    expect(topByBias(bias, 2, (row) => row === 1).map((r) => r.row)).toEqual([3, 2])
    expect(topByBias(bias, 10).map((r) => r.row)).toEqual([1, 3, 2, 0, 4])
  })

  it('sees no popularity in a fresh model (every bias equal)', () => {
    expect(hasPopularitySignal(new Float32Array(5))).toBe(false)
    expect(hasPopularitySignal(Float32Array.of(0, 0, 1e-6))).toBe(true)
  })

  it('finds the most cosine-similar candidate, ignoring the row itself and zero rows', () => {
    // rows: 0 → (1,0), 1 → (0,1), 2 → (1,1), 3 → (0,0)
    const e = Float32Array.of(1, 0, 0, 1, 1, 1, 0, 0)
    expect(nearestRow(e, 2, 0, [1, 2, 3, 0])).toEqual({ row: 2, similarity: expect.closeTo(Math.SQRT1_2, 6) })
    expect(nearestRow(e, 2, 0, [0, 3])).toBeNull()
    expect(nearestRow(e, 2, 3, [0, 1])).toBeNull()
  })

  it('reads popular items from a decoded model, or none from an untrained one', () => {
    const snapshot = (bias: Float32Array) =>
      decodeModel(
        encodeModel({
          modelVersion: 2,
          round: 2,
          itemIds: ['a', 'b', 'c'],
          tensors: [
            { name: ITEM_EMBEDDING, rows: 3, cols: 1, values: Float32Array.of(1, 2, 3) },
            { name: ITEM_BIAS, rows: 3, cols: 1, values: bias },
          ],
        }),
      )
    const set = popularFromSnapshot(snapshot(Float32Array.of(0.1, 0.3, 0.2)), 2, new Set(['b']))
    expect(set.kind).toBe('popular')
    expect(set.modelVersion).toBe(2)
    expect(set.items.map((i) => i.itemId)).toEqual(['c', 'a'])
    expect(popularFromSnapshot(snapshot(new Float32Array(3)), 2)).toEqual({
      kind: 'none',
      modelVersion: 2,
      items: [],
    })
  })

  it("reads one shop's popular items from a model several shops share, under the shop's own ids", () => {
    const shared = (bias: Float32Array) =>
      decodeModel(
        encodeModel({
          modelVersion: 3,
          round: 3,
          itemIds: ['a:x', 'b:x', 'a:y', 'b:y', 'a:z'],
          tensors: [
            { name: ITEM_EMBEDDING, rows: 5, cols: 1, values: Float32Array.of(1, 2, 3, 4, 5) },
            { name: ITEM_BIAS, rows: 5, cols: 1, values: bias },
          ],
        }),
      )
    // Shop b's items are the most popular of the model; shop a sees its own, best first, minus the excluded.
    const model = shared(Float32Array.of(0.1, 0.9, 0.3, 0.8, 0.2))
    expect(popularFromSnapshot(model, 5, new Set(), 'a').items.map((i) => i.itemId)).toEqual(['y', 'z', 'x'])
    expect(popularFromSnapshot(model, 5, new Set(['z']), 'a').items.map((i) => i.itemId)).toEqual(['y', 'x'])
    expect(popularFromSnapshot(model, 5, new Set(), 'c')).toEqual({
      kind: 'none',
      modelVersion: 3,
      items: [],
    })
    // Popularity is the shop's own: equal biases among a's items are no signal, whatever b's are.
    expect(popularFromSnapshot(shared(Float32Array.of(0, 1, 0, 2, 0)), 5, new Set(), 'a').kind).toBe('none')
  })
})
