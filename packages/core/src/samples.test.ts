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
