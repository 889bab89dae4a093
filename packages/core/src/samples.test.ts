import { describe, expect, it } from 'vitest'
import { ModelError } from './errors.ts'
import { DEFAULT_EVENT_WEIGHTS } from './events.ts'
import { createRng } from './rng.ts'
import { buildSamples, type RowEvent } from './samples.ts'

const history: RowEvent[] = [
  { type: 'click', row: 5 },
  { type: 'click', row: 5 },
  { type: 'purchase', row: 5 },
  { type: 'click', row: 9 },
  { type: 'add_to_cart', row: 2 },
  { type: 'click', row: 2 },
]

describe('buildSamples', () => {
  it('makes one positive per distinct row, weighted by its strongest event', () => {
    const s = buildSamples(history, { numItems: 100, negativesPerPositive: 3, rng: createRng(1) })
    expect(s.count).toBe(9)
    expect(s.positives.length).toBe(9)
    const weightOf = new Map<number, number>()
    for (let i = 0; i < s.count; i++) weightOf.set(s.positives[i]!, s.weights[i]!)
    expect(weightOf).toEqual(
      new Map([
        [2, DEFAULT_EVENT_WEIGHTS.add_to_cart],
        [5, DEFAULT_EVENT_WEIGHTS.purchase],
        [9, DEFAULT_EVENT_WEIGHTS.click],
      ]),
    )
  })

  it('draws negatives only from untouched rows, distinct per positive', () => {
    const s = buildSamples(history, { numItems: 12, negativesPerPositive: 4, rng: createRng(3) })
    const touched = new Set(history.map((e) => e.row))
    for (let i = 0; i < s.count; i++) expect(touched.has(s.negatives[i]!)).toBe(false)
    for (const p of touched) {
      const negs = [...s.negatives.keys()].filter((i) => s.positives[i] === p).map((i) => s.negatives[i])
      expect(new Set(negs).size).toBe(4)
    }
  })

  it('caps negatives at the untouched rows and yields no pairs when nothing is untouched', () => {
    const events: RowEvent[] = [0, 1, 2].map((row) => ({ type: 'click', row }))
    const few = buildSamples(events, { numItems: 5, negativesPerPositive: 10, rng: createRng(1) })
    expect(few.count).toBe(6)
    expect(new Set(few.negatives)).toEqual(new Set([3, 4]))
    const none = buildSamples(events, { numItems: 3, negativesPerPositive: 10, rng: createRng(1) })
    expect(none.count).toBe(0)
  })

  it('is deterministic for a seed and independent of event order', () => {
    const opts = () => ({ numItems: 1000, negativesPerPositive: 5, rng: createRng(9) })
    const a = buildSamples(history, opts())
    const b = buildSamples([...history].reverse(), opts())
    expect(a).toEqual(b)
  })

  it('refuses rows outside the catalogue and bad options', () => {
    const rng = createRng(1)
    expect(() =>
      buildSamples([{ type: 'click', row: 10 }], { numItems: 10, negativesPerPositive: 1, rng }),
    ).toThrow(ModelError)
    expect(() => buildSamples([], { numItems: 10, negativesPerPositive: 0, rng })).toThrow(
      /negativesPerPositive/,
    )
    expect(() =>
      buildSamples([], {
        numItems: 10,
        negativesPerPositive: 1,
        rng,
        eventWeights: { click: 0, add_to_cart: 1, purchase: 1 },
      }),
    ).toThrow(/click/)
  })
})

describe('buildSamples with row padding', () => {
  const events: RowEvent[] = [
    { type: 'purchase', row: 5 },
    { type: 'click', row: 9 },
    { type: 'click', row: 2 },
  ]
  it('adds pseudo positives after the real pairs, never as negatives, and counts them in n_k', () => {
    const options = { numItems: 200, negativesPerPositive: 4, rng: createRng(1) }
    const s = buildSamples(events, { ...options, padRatio: 2, padRng: createRng(9) })
    // 3 real + 4 pseudo = 7 (the ladder step at or above 9 is 10: 7 pseudo), 4 negatives each.
    expect(s.realCount).toBe(12)
    expect(s.count).toBe(40)
    const realPositives = new Set(s.positives.subarray(0, 12))
    expect(realPositives).toEqual(new Set([2, 5, 9]))
    const pseudo = new Set(s.positives.subarray(12, s.count))
    expect(pseudo.size).toBe(7)
    for (const row of s.negatives) {
      expect(realPositives.has(row)).toBe(false)
      expect(pseudo.has(row)).toBe(false)
    }
    for (const w of s.weights.subarray(12))
      expect([DEFAULT_EVENT_WEIGHTS.click, DEFAULT_EVENT_WEIGHTS.purchase]).toContain(w)
    // Padding off is exactly the unpadded samples, with the same random stream.
    expect(buildSamples(events, { ...options, rng: createRng(1), padRatio: 0 })).toEqual(
      buildSamples(events, { ...options, rng: createRng(1) }),
    )
  })
})
