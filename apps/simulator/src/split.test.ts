import { describe, expect, it } from 'vitest'
import type { LoadedDataset } from './datasets/index.ts'
import { leaveOneOut } from './split.ts'

const data = (rows: [string, string, number, ('click' | 'purchase')?][]): LoadedDataset => ({
  format: 'generic',
  path: 'test.csv',
  interactions: rows.map(([user, item, timestamp, type = 'click']) => ({ user, item, type, timestamp })),
  skipped: {},
})

describe('leaveOneOut', () => {
  it('holds out the last and the second-to-last new item by time, and trains on the rest', () => {
    // Out of file order on purpose; item 10 is bought again at the end, so it is not "new" then.
    const split = leaveOneOut(
      data([
        ['a', '30', 3],
        ['a', '10', 1],
        ['a', '20', 2],
        ['a', '40', 4, 'purchase'],
        ['a', '10', 5, 'purchase'],
        ['b', '10', 1],
        ['b', '20', 2],
      ]),
      { negatives: 99, seed: 1 },
    )
    expect(split.itemIds).toEqual(['10', '20', '30', '40'])
    const [a, b] = split.users
    expect(a!.test).toBe(3) // '40'
    expect(a!.validation).toBe(2) // '30'
    expect(a!.train).toEqual([
      { type: 'click', row: 0 },
      { type: 'click', row: 1 },
      { type: 'purchase', row: 0 },
    ])
    // Never-touched items only, and no more than exist.
    expect(Array.from(a!.negatives)).toEqual([])
    expect(b!.test).toBeUndefined()
    expect(b!.train).toHaveLength(2)
    expect(split.evalUsers).toEqual([0])
    expect(split.counts).toEqual({ interactions: 7, users: 2, items: 4, evalUsers: 1, trainEvents: 5 })
  })

  it('samples fixed negatives the shopper never touched, the same for the same seed', () => {
    const rows: [string, string, number][] = []
    for (let i = 0; i < 200; i++) rows.push(['x', String(i), i < 5 ? i : 10_000 + i])
    for (let i = 0; i < 5; i++) rows.push(['y', String(i), i])
    const dataset = data(
      rows
        .filter(([u, , t]) => u === 'y' || t < 5)
        .concat([
          ['z', '150', 0],
          ['z', '199', 1],
        ]),
    )
    const one = leaveOneOut(dataset, { negatives: 99, seed: 7 })
    const two = leaveOneOut(dataset, { negatives: 99, seed: 7 })
    const y = one.users.find((u) => u.id === 'y')!
    expect(y.negatives).toHaveLength(Math.min(99, one.itemIds.length - 5))
    for (const row of y.negatives) expect(row).toBeGreaterThanOrEqual(5)
    expect(new Set(y.negatives).size).toBe(y.negatives.length)
    expect(two.users.find((u) => u.id === 'y')!.negatives).toEqual(y.negatives)
  })

  it('draws 99 distinct untouched negatives from a large catalogue (the rejection-sampling path)', () => {
    // 300 items, the shopper touched 5: far more untouched items than wanted, so rows are drawn at random.
    const rows: [string, string, number][] = []
    for (let i = 0; i < 300; i++) rows.push(['other', String(i), i])
    for (let i = 0; i < 5; i++) rows.push(['y', String(i * 7), i])
    const split = leaveOneOut(data(rows), { negatives: 99, seed: 3 })
    const y = split.users.find((u) => u.id === 'y')!
    const touched = new Set([0, 7, 14, 21, 28])
    expect(y.negatives).toHaveLength(99)
    expect(new Set(y.negatives).size).toBe(99)
    for (const row of y.negatives) expect(touched.has(row)).toBe(false)
    expect(
      leaveOneOut(data(rows), { negatives: 99, seed: 3 }).users.find((u) => u.id === 'y')!.negatives,
    ).toEqual(y.negatives)
  })
})
