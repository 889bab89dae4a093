import { describe, expect, it } from 'vitest'
import { bootstrapMean } from './bootstrap.ts'
import type { ItemCatalogue, ItemMeta } from './datasets/index.ts'
import type { CatalogueScores } from './evaluate.ts'
import { evaluateRerank } from './rerank-eval.ts'
import { formatRerank } from './rerank-table.ts'
import type { SplitDataset, SplitUser } from './split.ts'

const ids = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'b1', 'b2', 'x', 'c']
/** Bestsellers first by row: a1 is the shop's first item, x and c never sold. */
const popularity = Float64Array.from([6, 5, 4, 3, 2, 1, 1, 1, 0, 0])

const user = (id: string, test: number, context: number[]): SplitUser => ({
  id,
  train: [],
  trainRows: new Set(),
  validation: undefined,
  test,
  testContext: context.map((row) => ({ row, type: 'click' })),
  validationContext: [],
  negatives: new Int32Array(0),
})

function splitOf(users: SplitUser[]): SplitDataset {
  return {
    itemIds: ids,
    users,
    recentCounts: new Float64Array(ids.length),
    evalUsers: users.map((_, i) => i),
    counts: {
      interactions: 0,
      users: users.length,
      items: ids.length,
      evalUsers: users.length,
      trainEvents: 0,
    },
  }
}

function catalogueOf(
  kind: ItemCatalogue['categoryKind'],
  categories: Record<string, string[]>,
): ItemCatalogue {
  const items = new Map<string, ItemMeta>(
    Object.entries(categories).map(([id, c]) => [id, { categories: c, titleTokens: [] }]),
  )
  return { path: 'items.csv', categoryKind: kind, items, priceEdges: [], notes: {} }
}

const path = (leaf: string) => ['shop', `shop.${leaf}`]
const shopCatalogue = catalogueOf('path', {
  ...Object.fromEntries(['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((id) => [id, path('a')])),
  b1: path('b'),
  b2: path('b'),
  c: [],
})
/** Puts the shopper's held-out item first. */
const oracle: CatalogueScores = (u) => Float64Array.from(ids, (_, row) => (row === u.test ? 1 : 0))
/** Scores everything alike: the re-ranked list is the shop's own. */
const flat: CatalogueScores = () => new Float64Array(ids.length)

describe('evaluateRerank', () => {
  const split = splitOf([
    user('u0', 3, [0]), // list a minus a1: a2 a3 a4 a5 a6, a4 third
    user('u1', 5, []), // list a: a6 last of six
    user('u2', 7, []), // list b: two items, too small
    user('u3', 8, []), // x has no metadata
    user('u4', 9, []), // c has no category
  ])
  const r = evaluateRerank(split, shopCatalogue, popularity, { oracle, flat }, { seed: 1 })

  it('ranks the held-out item in its finest category, in popularity order, leaving out what the shopper knew', () => {
    expect(r.listRule).toBe('finest category')
    expect(r.shoppers).toBe(2)
    expect(r.skipped).toEqual({ noMetadata: 1, noCategory: 1, smallLists: 1 })
    expect(r.listSize).toEqual({ median: 6, mean: 5.5 })
    const ndcg1 = 1 / Math.log2(7)
    expect(r.orders.popularity!.ndcg10).toBeCloseTo((0.5 + ndcg1) / 2, 12)
    expect(r.orders.popularity!.mrr).toBeCloseTo((1 / 3 + 1 / 6) / 2, 12)
    expect(r.orders.popularity!.hr10).toBe(1)
    expect(r.orders.oracle).toEqual({ ndcg10: 1, mrr: 1, hr10: 1 })
    expect(r.orders.flat).toEqual(r.orders.popularity)
  })

  it("gives each re-ranking's gain over popularity with a bootstrap interval; a tie is within noise", () => {
    const gain = r.gainOverPopularity.oracle!.ndcg10
    expect(gain.mean).toBeCloseTo((0.5 + (1 - 1 / Math.log2(7))) / 2, 12)
    expect(gain.low).toBeGreaterThanOrEqual(0.5 - 1e-12)
    expect(gain.high).toBeLessThanOrEqual(1 - 1 / Math.log2(7) + 1e-12)
    expect(r.gainOverPopularity.flat).toEqual({
      ndcg10: { mean: 0, low: 0, high: 0 },
      mrr: { mean: 0, low: 0, high: 0 },
    })
    expect(r.gainOverPopularity.popularity).toBeUndefined()
    const table = formatRerank(r).join('\n')
    expect(table).toMatch(
      /\| oracle \| 1\.0000 \| 1\.0000 \| 1\.0000 \| \+0\.\d{4} \[\+0\.\d{4}, \+0\.\d{4}\] \|/,
    )
    expect(table).toContain('| flat | ')
    expect(table).toContain('+0.0000 [+0.0000, +0.0000] within noise')
    expect(table).toContain(
      'list size median 6, mean 5.5; skipped: 1 no metadata, 1 no category, 1 lists too small',
    )
    expect(table).toContain('all 2 shoppers:')
    expect(table).toContain('the 2 shoppers whose held-out item someone else touched in training:')
  })

  it('repeats the table for the held-out items someone else touched in training', () => {
    // a6 (u1's item) made cold: never touched in training; u0's a4 stays warm.
    const cold = Float64Array.from(popularity, (p, row) => (row === 5 ? 0 : p))
    const w = evaluateRerank(split, shopCatalogue, cold, { oracle }, { seed: 1 })
    expect(w.shoppers).toBe(2)
    expect(w.warm.shoppers).toBe(1)
    expect(w.warm.orders.popularity).toEqual({ ndcg10: 0.5, mrr: 1 / 3, hr10: 1 })
    expect(w.warm.gainOverPopularity.oracle!.ndcg10).toEqual({ mean: 0.5, low: 0.5, high: 0.5 })
    expect(r.warm.orders).toEqual(r.orders)
  })

  it('replays the random order for the same seed, and shuffles it differently for another', () => {
    const again = evaluateRerank(split, shopCatalogue, popularity, {}, { seed: 1 })
    expect(again.orders.random).toEqual(r.orders.random)
    const many = splitOf(Array.from({ length: 40 }, (_, i) => user(`u${i}`, 5, [])))
    const one = evaluateRerank(many, shopCatalogue, popularity, {}, { seed: 1 }).orders.random!
    const two = evaluateRerank(many, shopCatalogue, popularity, {}, { seed: 2 }).orders.random!
    expect(one.mrr).not.toBe(two.mrr)
    // a6 is last in popularity order; shuffled, it is on average near the middle of six.
    expect(one.mrr).toBeGreaterThan(1 / 6)
  })

  it('ranks a multi-genre item in each genre list and averages, so the shopper counts once', () => {
    const genres = catalogueOf('genres', {
      ...Object.fromEntries(['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => [id, ['G1']])),
      a6: ['G1', 'G2'],
      b1: ['G2'],
      b2: ['G2'],
      x: ['G2'],
      c: ['G2'],
    })
    // a6 is 6th of six in G1 and 1st of five in G2 (a6, b1, b2 sold once: by row; then x, c).
    const g = evaluateRerank(splitOf([user('u', 5, [])]), genres, popularity, {}, { seed: 1 })
    expect(g.listRule).toBe('each genre')
    expect(g.shoppers).toBe(1)
    expect(g.orders.popularity!.mrr).toBeCloseTo((1 / 6 + 1) / 2, 12)
    expect(g.orders.popularity!.ndcg10).toBeCloseTo((1 / Math.log2(7) + 1) / 2, 12)
  })
})

describe('bootstrapMean', () => {
  it('gives the mean, an interval around it, and the same interval for the same seed', () => {
    const values = Array.from({ length: 200 }, (_, i) => (i % 4) - 1) // -1, 0, 1, 2: mean 0.5
    const a = bootstrapMean(values, { seed: 3 })
    expect(a.mean).toBeCloseTo(0.5, 12)
    expect(a.low).toBeLessThan(0.5)
    expect(a.high).toBeGreaterThan(0.5)
    // Standard error √(1.25/200) ≈ 0.079: the 95 % interval is about ±0.155.
    expect(a.high - a.low).toBeGreaterThan(0.2)
    expect(a.high - a.low).toBeLessThan(0.42)
    expect(bootstrapMean(values, { seed: 3 })).toEqual(a)
  })

  it('collapses on constant values and on no values', () => {
    expect(bootstrapMean([0.25, 0.25, 0.25], { seed: 1 })).toEqual({ mean: 0.25, low: 0.25, high: 0.25 })
    expect(bootstrapMean([], { seed: 1 })).toEqual({ mean: 0, low: 0, high: 0 })
  })
})
