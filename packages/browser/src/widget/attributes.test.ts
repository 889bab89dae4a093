import { describe, expect, it } from 'vitest'
import {
  parseCount,
  parseDbName,
  parseEndpoint,
  parseExclude,
  parseLeaveOut,
  parseMode,
  readAttributes,
} from './attributes.ts'

describe('the widget attributes', () => {
  it('count: a whole number from 1 to 50, else 8', () => {
    expect(parseCount(null)).toBe(8)
    expect(parseCount('3')).toBe(3)
    expect(parseCount('1')).toBe(1)
    expect(parseCount('50')).toBe(50)
    for (const bad of ['0', '51', '2.5', '-1', 'many', '']) expect(parseCount(bad)).toBe(8)
  })

  it('mode: similar only with an item to be similar to', () => {
    expect(parseMode('similar', 'sku-1')).toBe('similar')
    expect(parseMode('similar', null)).toBe('for-you')
    expect(parseMode('similar', '')).toBe('for-you')
    expect(parseMode('popular', 'sku-1')).toBe('for-you')
    expect(parseMode(null, null)).toBe('for-you')
  })

  it('exclude: ids split on spaces and commas, empty parts dropped', () => {
    expect(parseExclude(null)).toEqual([])
    expect(parseExclude('')).toEqual([])
    expect(parseExclude('a, b  c,,d ')).toEqual(['a', 'b', 'c', 'd'])
  })

  it('leave-out: carted unless it says bought or seen', () => {
    expect(parseLeaveOut(null)).toBe('carted')
    expect(parseLeaveOut('bought')).toBe('bought')
    expect(parseLeaveOut('seen')).toBe('seen')
    expect(parseLeaveOut('everything')).toBe('carted')
  })

  it('endpoint: resolved against the page and ending in a slash; null when missing', () => {
    const page = 'https://shop.example/products/1'
    expect(parseEndpoint(null, page)).toBeNull()
    expect(parseEndpoint('', page)).toBeNull()
    expect(parseEndpoint('https://agg.example', page)).toBe('https://agg.example/')
    expect(parseEndpoint('https://agg.example/fedrec', page)).toBe('https://agg.example/fedrec/')
    expect(parseEndpoint('/agg/', page)).toBe('https://shop.example/agg/')
    expect(parseEndpoint('http://[bad', page)).toBeNull()
  })

  it('db-name: fedrec when missing or empty', () => {
    expect(parseDbName(null)).toBe('fedrec')
    expect(parseDbName('')).toBe('fedrec')
    expect(parseDbName('shop-a')).toBe('shop-a')
  })

  it('reads every attribute at once', () => {
    const attrs: Record<string, string> = {
      endpoint: '/agg',
      mode: 'similar',
      item: 'sku-8',
      count: '3',
      exclude: 'sku-1 sku-2',
      heading: 'Because you viewed sku-8',
      'item-url': '/p/{id}',
      shop: 'bramble',
    }
    expect(readAttributes((name) => attrs[name] ?? null, 'https://shop.example/')).toEqual({
      endpoint: 'https://shop.example/agg/',
      dbName: 'fedrec',
      count: 3,
      heading: 'Because you viewed sku-8',
      mode: 'similar',
      item: 'sku-8',
      exclude: ['sku-1', 'sku-2'],
      leaveOut: 'carted',
      itemUrl: '/p/{id}',
      shop: 'bramble',
    })
    expect(readAttributes(() => null, 'https://shop.example/')).toEqual({
      endpoint: null,
      dbName: 'fedrec',
      count: 8,
      heading: null,
      mode: 'for-you',
      item: undefined,
      exclude: [],
      leaveOut: 'carted',
      itemUrl: null,
    })
  })
})
