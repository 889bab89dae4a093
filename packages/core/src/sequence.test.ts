import { describe, expect, it } from 'vitest'
import { createRng } from './rng.ts'
import type { RowEvent } from './samples.ts'
import { buildSequenceSamples, sequenceQuery } from './sequence.ts'
import type { SharedWeights } from './weights.ts'

const events: RowEvent[] = [
  { type: 'click', row: 0 },
  { type: 'click', row: 1 },
  { type: 'click', row: 0 },
  { type: 'purchase', row: 2 },
  { type: 'click', row: 3 },
]
const settings = { contextLength: 2, recency: 0.5 }

describe('buildSequenceSamples', () => {
  it('makes one example per new item, its context the recent window the device knew then (hand-worked)', () => {
    const s = buildSequenceSamples(events, {
      numItems: 10,
      negativesPerTarget: 2,
      rng: createRng(1),
      settings,
    })
    expect([...s.targets]).toEqual([1, 2, 3])
    // Target weights are the strongest event the shopper ever had with the item: 2 was bought.
    expect([...s.weights]).toEqual([1, 4, 1])
    const context = (t: number) => ({
      rows: [...s.contextRows.subarray(s.contextStart[t]!, s.contextStart[t + 1]!)],
      weights: [...s.contextWeights.subarray(s.contextStart[t]!, s.contextStart[t + 1]!)],
    })
    // Before 1: only 0. Before 2: 1, then 0 again (the newest, weight 1; 1 is one step back, 0.5): ⅓ and ⅔.
    expect(context(0)).toEqual({ rows: [0], weights: [1] })
    expect(context(1).rows).toEqual([1, 0])
    expect(context(1).weights.map((w) => w.toFixed(4))).toEqual(['0.3333', '0.6667'])
    // Before 3: the window holds two items, 0 (one step back: 0.5 × click 1) and 2 (bought: 4): 1/9 and 8/9.
    expect(context(2).rows).toEqual([0, 2])
    expect(context(2).weights.map((w) => w.toFixed(4))).toEqual(['0.1111', '0.8889'])
    expect(s.count).toBe(6)
    expect(s.realTargets).toBe(3)
    for (let t = 0; t < 3; t++) {
      const negatives = [...s.negatives.subarray(t * 2, t * 2 + 2)]
      expect(new Set(negatives).size).toBe(2)
      for (const n of negatives) expect([0, 1, 2, 3]).not.toContain(n)
    }
  })

  it('has nothing to learn from fewer than two items, and names a row outside the catalogue', () => {
    const opts = { numItems: 10, negativesPerTarget: 2, rng: createRng(1) }
    expect(buildSequenceSamples([], opts).count).toBe(0)
    expect(
      buildSequenceSamples(
        [
          { type: 'click', row: 4 },
          { type: 'purchase', row: 4 },
        ],
        opts,
      ).count,
    ).toBe(0)
    expect(() => buildSequenceSamples([{ type: 'click', row: 10 }], opts)).toThrow(/row 10 is outside 0..9/)
    expect(() =>
      buildSequenceSamples(events, { ...opts, settings: { contextLength: 0, recency: 1 } }),
    ).toThrow(/contextLength/)
    expect(() =>
      buildSequenceSamples(events, { ...opts, settings: { contextLength: 3, recency: 1.5 } }),
    ).toThrow(/recency must be in \(0, 1\]/)
    expect(() => buildSequenceSamples(events, { ...opts, negativesPerTarget: 0 })).toThrow(
      /negativesPerTarget/,
    )
  })

  it('pads with pseudo-items: extra targets of the whole recent window, never anyone’s negative', () => {
    const s = buildSequenceSamples(events, {
      numItems: 50,
      negativesPerTarget: 2,
      rng: createRng(2),
      settings,
      padRatio: 2,
      padRng: createRng(7),
    })
    expect(s.pseudoItems.length).toBeGreaterThanOrEqual(8)
    expect(s.targets.length).toBe(3 + s.pseudoItems.length)
    expect([...s.targets.subarray(3)]).toEqual(s.pseudoItems)
    const last = s.targets.length - 1
    expect([...s.contextRows.subarray(s.contextStart[last]!, s.contextStart[last + 1]!)]).toEqual([2, 3])
    for (const n of s.negatives) expect([0, 1, 2, 3, ...s.pseudoItems]).not.toContain(n)
    expect(s.count).toBe(s.targets.length * 2)
  })
})

describe('sequenceQuery', () => {
  const weights: SharedWeights = {
    numItems: 4,
    dim: 2,
    itemEmbedding: Float32Array.from([1, 0, 0, 1, 2, 2, -1, 1]),
    itemBias: new Float32Array(4),
  }

  it('is the recency- and event-weighted mean of the recent items’ embeddings, plus the private vector', () => {
    // Window after the events: 0 (click, two steps back → 0.25), 2 (bought, one step back → 4 × 0.5 = 2), 3 (1).
    const q = sequenceQuery(weights, events, { settings: { contextLength: 3, recency: 0.5 } })
    const total = 0.25 + 2 + 1
    expect(q[0]).toBeCloseTo((0.25 * 1 + 2 * 2 + 1 * -1) / total, 6)
    expect(q[1]).toBeCloseTo((0.25 * 0 + 2 * 2 + 1 * 1) / total, 6)
    const withVector = sequenceQuery(weights, events, {
      settings: { contextLength: 3, recency: 0.5 },
      privateVector: Float32Array.from([10, -10]),
    })
    expect(withVector[0]).toBeCloseTo(q[0]! + 10, 5)
    expect(withVector[1]).toBeCloseTo(q[1]! - 10, 5)
  })

  it('skips rows the model does not have and gives zero (rank by bias) for an empty history', () => {
    expect([...sequenceQuery(weights, [])]).toEqual([0, 0])
    expect([
      ...sequenceQuery(weights, [
        { type: 'click', row: 99 },
        { type: 'click', row: 1 },
      ]),
    ]).toEqual([0, 1])
  })
})
