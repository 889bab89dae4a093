import { describe, expect, it } from 'vitest'
import { checkRerank, MAX_RERANK_ITEMS } from './recommender-input.ts'
import { type OrderRequest, orderList } from './rerank.ts'

const scores: Record<string, number> = { a: 1, b: 3, c: 2, d: 2 }
const request = (overrides: Partial<OrderRequest> = {}): OrderRequest => ({
  scoreOf: (id) => scores[id],
  basis: 'personal',
  unknown: 'keep-place',
  leaveOut: new Set(),
  k: undefined,
  ...overrides,
})
const ids = (itemIds: string[], overrides?: Partial<OrderRequest>) =>
  orderList(itemIds, request(overrides)).items.map((i) => i.itemId)

describe('orderList', () => {
  it('orders known ids best first, equal scores in the shop’s order, with their scores and reason', () => {
    const { items, leftOut } = orderList(['a', 'd', 'b', 'c'], request())
    expect(items).toEqual([
      { itemId: 'b', score: 3, reason: 'personal' },
      { itemId: 'd', score: 2, reason: 'personal' },
      { itemId: 'c', score: 2, reason: 'personal' },
      { itemId: 'a', score: 1, reason: 'personal' },
    ])
    expect(leftOut).toEqual([])
    expect(ids(['c', 'd'])).toEqual(['c', 'd'])
    expect(orderList(['a'], request({ basis: 'popular' })).items[0]!.reason).toBe('popular')
  })

  it('keeps unknown ids at their index by default, the known ones reordered around them', () => {
    // Slots 0 and 3 hold the unknown x and y; the known a, b, c fill slots 1, 2, 4 best first.
    const { items } = orderList(['x', 'a', 'b', 'y', 'c'], request())
    expect(items.map((i) => i.itemId)).toEqual(['x', 'b', 'c', 'y', 'a'])
    expect(items[0]).toEqual({ itemId: 'x', score: null, reason: 'unknown' })
  })

  it("puts unknown ids after the known ones, in the shop's order, with unknown: 'last'", () => {
    expect(ids(['y', 'a', 'x', 'b'], { unknown: 'last' })).toEqual(['b', 'a', 'y', 'x'])
  })

  it('drops what leaveOut names and reports it in the shop’s order; keeps everything by default', () => {
    const { items, leftOut } = orderList(['a', 'b', 'x', 'c'], request({ leaveOut: new Set(['c', 'a']) }))
    expect(items.map((i) => i.itemId)).toEqual(['b', 'x'])
    expect(leftOut).toEqual(['a', 'c'])
  })

  it('keeps the first k of the new order', () => {
    expect(ids(['a', 'b', 'c'], { k: 2 })).toEqual(['b', 'c'])
    expect(ids(['a', 'b'], { k: 5 })).toEqual(['b', 'a'])
  })

  it('returns the shop’s order, unranked, when there is no model (scoreOf null)', () => {
    const { items } = orderList(['c', 'a', 'b'], request({ scoreOf: null, k: 2 }))
    expect(items).toEqual([
      { itemId: 'c', score: null, reason: 'unranked' },
      { itemId: 'a', score: null, reason: 'unranked' },
    ])
    expect(orderList([], request()).items).toEqual([])
  })
})

describe('checkRerank', () => {
  const code = (fn: () => unknown) => {
    try {
      fn()
    } catch (err) {
      return {
        name: (err as Error).name,
        code: (err as { code?: string }).code,
        message: (err as Error).message,
      }
    }
    return null
  }

  it('fills in the defaults', () => {
    expect(checkRerank(['a', 'b'], {})).toEqual({
      itemIds: ['a', 'b'],
      options: { context: 'list', unknown: 'keep-place', leaveOut: 'none', k: undefined },
    })
    expect(checkRerank([], { context: 'search', unknown: 'last', leaveOut: 'bought', k: 3 }).options).toEqual(
      {
        context: 'search',
        unknown: 'last',
        leaveOut: 'bought',
        k: 3,
      },
    )
  })

  it('refuses a list that is not an array', () => {
    expect(code(() => checkRerank('a,b', {}))).toMatchObject({
      name: 'FedrecError',
      code: 'bad_option',
      message: 'rerank() needs an array of item ids, got "a,b"',
    })
  })

  it('refuses ids that are not non-empty strings, naming the index', () => {
    expect(code(() => checkRerank(['a', 7], {}))?.message).toBe(
      'rerank() item ids must be non-empty strings of at most 256 characters; item 1 is 7',
    )
    expect(code(() => checkRerank([''], {}))?.code).toBe('bad_option')
    expect(code(() => checkRerank(['x'.repeat(257)], {}))?.code).toBe('bad_option')
  })

  it('refuses duplicate ids, naming both places', () => {
    expect(code(() => checkRerank(['a', 'b', 'a'], {}))?.message).toBe(
      'rerank() needs each item id once; "a" is at 0 and at 2',
    )
  })

  it(`refuses more than ${MAX_RERANK_ITEMS} ids and takes exactly that many`, () => {
    const many = Array.from({ length: MAX_RERANK_ITEMS + 1 }, (_, i) => `sku-${i}`)
    expect(code(() => checkRerank(many, {}))?.message).toBe(
      `rerank() takes at most ${MAX_RERANK_ITEMS} item ids, got ${MAX_RERANK_ITEMS + 1}; for the whole catalogue use recommend()`,
    )
    expect(checkRerank(many.slice(1), {}).itemIds).toHaveLength(MAX_RERANK_ITEMS)
  })

  it('refuses bad options, each with its own message', () => {
    expect(code(() => checkRerank([], null))?.message).toBe('rerank() options must be an object, got null')
    expect(code(() => checkRerank([], { context: '' }))?.message).toMatch(
      /^context must be a non-empty string/,
    )
    expect(code(() => checkRerank([], { unknown: 'first' }))?.message).toBe(
      `unknown must be 'keep-place' or 'last', got "first"`,
    )
    expect(code(() => checkRerank([], { leaveOut: 'all' }))?.message).toBe(
      `leaveOut must be 'none', 'carted', 'bought' or 'seen', got "all"`,
    )
    expect(code(() => checkRerank([], { k: 0 }))?.message).toBe('k must be a positive integer, got 0')
    expect(code(() => checkRerank([], { k: 1.5 }))?.code).toBe('bad_option')
  })
})
