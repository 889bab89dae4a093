import { describe, expect, it } from 'vitest'
import { ladderStep, pickPseudoItems } from './pseudo-items.ts'
import { createRng } from './rng.ts'

const touched = new Map([
  [3, 4],
  [8, 1],
  [20, 1],
  [41, 2],
])

describe('pickPseudoItems', () => {
  it('pads the positive-looking rows to a ladder step at or above (1 + ratio) · |H|, from untouched rows only', () => {
    const { rows, weights } = pickPseudoItems({
      touched,
      numItems: 500,
      ratio: 2,
      reserve: 4,
      rng: createRng(1),
    })
    // (1 + 2) · 4 = 12 is a step: 8 pseudo-items.
    expect(rows).toHaveLength(8)
    expect(new Set(rows).size).toBe(8)
    for (const row of rows) expect(touched.has(row)).toBe(false)
    // Their weights are real positives' weights.
    for (const w of weights) expect([4, 1, 2]).toContain(w)
    expect(ladderStep(13)).toBe(14)
    expect(
      pickPseudoItems({ touched, numItems: 500, ratio: 2.1, reserve: 4, rng: createRng(1) }).rows,
    ).toHaveLength(10)
  })

  it('is off at ratio 0, keeps `reserve` rows for negatives, and refuses a bad ratio', () => {
    const rng = createRng(1)
    expect(pickPseudoItems({ touched, numItems: 500, ratio: 0, reserve: 4, rng })).toEqual({
      rows: [],
      weights: [],
    })
    expect(rng.next()).toBe(createRng(1).next()) // and draws nothing
    expect(pickPseudoItems({ touched, numItems: 10, ratio: 3, reserve: 4, rng }).rows).toHaveLength(2)
    expect(() => pickPseudoItems({ touched, numItems: 10, ratio: -1, reserve: 4, rng })).toThrow(/padRatio/)
  })

  it('gives the same pseudo-items for the same secret seed, and mostly the same when the history grows', () => {
    const pick = (t: ReadonlyMap<number, number>, seed: number) =>
      pickPseudoItems({ touched: t, numItems: 1000, ratio: 3, reserve: 4, rng: createRng(seed) }).rows
    expect(pick(touched, 7)).toEqual(pick(touched, 7))
    expect(pick(touched, 7)).not.toEqual(pick(touched, 8))
    const grown = new Map([...touched, [pick(touched, 7)[0]!, 1]])
    const before = new Set(pick(touched, 7))
    const after = pick(grown, 7)
    expect(after.filter((r) => before.has(r)).length).toBeGreaterThanOrEqual(before.size - 1)
  })

  it("draws from the model's prediction: high-scoring rows are picked far more often", () => {
    const scores = Float32Array.from({ length: 1000 }, (_, row) => (row < 100 ? 4 : 0))
    let high = 0
    let total = 0
    for (let seed = 0; seed < 20; seed++) {
      const { rows } = pickPseudoItems({
        touched,
        numItems: 1000,
        ratio: 3,
        reserve: 4,
        rng: createRng(seed),
        scores,
      })
      high += rows.filter((r) => r < 100).length
      total += rows.length
    }
    // Uniform would give 10 %; softmax weights e^4 ≈ 55 against 1 give ≈ 86 %.
    expect(high / total).toBeGreaterThan(0.7)
  })
})

describe("pickPseudoItems with the previous round's pseudo-items", () => {
  it('keeps them first, whatever the scores, and tops up only what the history size adds', () => {
    const base = { touched, numItems: 1000, ratio: 3, reserve: 4 }
    const first = pickPseudoItems({ ...base, rng: createRng(1) }).rows
    // Other scores and another stream would give another set; the previous one is kept.
    const scores = Float32Array.from({ length: 1000 }, (_, row) => row / 100)
    expect(pickPseudoItems({ ...base, rng: createRng(2), scores, previous: first }).rows).toEqual(first)
    // A pseudo-item the shopper then touched is dropped; the rest stay.
    const grown = new Map([...touched, [first[0]!, 1]])
    const next = pickPseudoItems({ ...base, touched: grown, rng: createRng(2), previous: first }).rows
    expect(next).not.toContain(first[0])
    expect(next.slice(0, first.length - 1)).toEqual(first.slice(1))
    // Rows outside the catalogue (it shrank, or a bad record) are ignored.
    expect(pickPseudoItems({ ...base, rng: createRng(1), previous: [5000, -1, 1.5] }).rows).toEqual(first)
  })
})
