import { describe, expect, it } from 'vitest'
import { href, parseRoute } from './router.ts'

describe('parseRoute', () => {
  it('parses every page', () => {
    expect(parseRoute('')).toEqual({ type: 'home', category: null })
    expect(parseRoute('#/')).toEqual({ type: 'home', category: null })
    expect(parseRoute('#/category/kitchen')).toEqual({ type: 'home', category: 'kitchen' })
    expect(parseRoute('#/product/sku-kitchen-007')).toEqual({ type: 'product', id: 'sku-kitchen-007' })
    expect(parseRoute('#/cart')).toEqual({ type: 'cart' })
    expect(parseRoute('#/privacy/')).toEqual({ type: 'privacy' })
    expect(parseRoute('#/search/rain%20shell')).toEqual({ type: 'search', query: 'rain shell' })
    expect(parseRoute('#/search')).toEqual({ type: 'search', query: '' })
  })

  it('sends anything else to not-found', () => {
    expect(parseRoute('#/product')).toMatchObject({ type: 'not-found' })
    expect(parseRoute('#/product/%E0%A4%A')).toMatchObject({ type: 'not-found' })
    expect(parseRoute('#/cart/extra')).toMatchObject({ type: 'not-found' })
    expect(parseRoute('#/nope')).toMatchObject({ type: 'not-found' })
    expect(parseRoute('#/search/a/b')).toMatchObject({ type: 'not-found' })
  })

  it('round-trips with href', () => {
    for (const route of [
      { type: 'home', category: null },
      { type: 'home', category: 'outdoor' },
      { type: 'product', id: 'sku a/b' },
      { type: 'cart' },
      { type: 'privacy' },
      { type: 'search', query: 'rain shell / 50% off' },
      { type: 'search', query: '' },
    ] as const) {
      expect(parseRoute(href(route))).toEqual(route)
    }
  })
})
