import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DatasetError } from '../errors.ts'
import {
  assignPriceBands,
  categoryPath,
  type ItemMeta,
  itemsFileBeside,
  loadItemMeta,
  parseItemMeta,
  parseItemsCsv,
  parseMovieLensItems,
  parseOnlineRetailItems,
  titleTokens,
} from './index.ts'

const dir = mkdtempSync(join(tmpdir(), 'fedrec-sim-items-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function expectMalformed(f: () => unknown, where: string): void {
  expect(f).toThrow(DatasetError)
  expect(f).toThrow(where)
}

/** A u.item line: id, title, date, then the 19 genre flags with the given ones set. */
const movie = (id: string, title: string, date: string, genres: number[]) =>
  [
    id,
    title,
    date,
    '',
    'http://x',
    ...Array.from({ length: 19 }, (_, g) => (genres.includes(g) ? '1' : '0')),
  ].join('|')

describe('MovieLens u.item', () => {
  it('reads genres as categories, title words without the year, and the release year', () => {
    const text = `${movie('1', 'Toy Story (1995)', '01-Jan-1995', [3, 4, 5])}\n${movie('2', 'Misérables, Les (1995)', '', [8])}\r\n\n`
    const { items, categoryKind, priceEdges } = parseMovieLensItems(text, 'u.item')
    expect(categoryKind).toBe('genres')
    expect(priceEdges).toEqual([])
    expect(items.get('1')).toEqual({
      categories: ['Animation', "Children's", 'Comedy'],
      titleTokens: ['toy', 'story'],
      year: 1995,
    })
    expect(items.get('2')).toEqual({ categories: ['Drama'], titleTokens: ['misérables', 'les'], year: 1995 })
  })

  it('takes a one-digit day, and an item with no date and no year in its title has no year', () => {
    const { items } = parseMovieLensItems(
      `${movie('7', 'unknown', '4-Feb-1971', [0])}\n${movie('8', 'unknown', '', [0])}\n`,
      'u.item',
    )
    expect(items.get('7')?.year).toBe(1971)
    expect(items.get('8')).toEqual({ categories: ['unknown'], titleTokens: ['unknown'] })
  })

  it('decodes the file as ISO-8859-1', () => {
    const ml = join(dir, 'ml')
    mkdirSync(ml)
    writeFileSync(join(ml, 'u.item'), Buffer.from(`${movie('3', 'Café (1996)', '', [5])}\n`, 'latin1'))
    expect(loadItemMeta('movielens', join(ml, 'u.item')).items.get('3')?.titleTokens).toEqual(['café'])
  })

  it('names the file and line of a malformed line', () => {
    const ok = movie('1', 'A (1995)', '', [1])
    expectMalformed(
      () => parseMovieLensItems(`${ok}\n1|A|x\n`, 'u.item'),
      'u.item:2: expected 24 |-separated fields, got 3',
    )
    expectMalformed(
      () => parseMovieLensItems(movie('x', 'A', '', [1]), 'u.item'),
      'u.item:1: the movie id must be an integer',
    )
    expectMalformed(
      () => parseMovieLensItems(movie('1', 'A', '', [1]).replace(/\|0$/, '|2'), 'u.item'),
      'u.item:1: the 19 genre flags must each be 0 or 1',
    )
    expectMalformed(
      () => parseMovieLensItems(movie('1', 'A', '1995-01-01', [1]), 'u.item'),
      'u.item:1: the release date must be',
    )
    expectMalformed(
      () => parseMovieLensItems(movie('1', 'A', '01-Foo-1995', [1]), 'u.item'),
      'u.item:1: the release date must be',
    )
    expectMalformed(
      () => parseMovieLensItems(`${ok}\n${ok}\n`, 'u.item'),
      'u.item:2: movie id 1 appears twice',
    )
  })
})

describe('items CSV (REES46 items.csv)', () => {
  it('reads category paths, opaque codes, brands and prices; 0.00 is no price', () => {
    const text = [
      'item,category,brand,price,title',
      '1,appliances.kitchen.washer,lg,300.50,',
      '2,2053013561218695907,,12,Blue Mug',
      '3,,samsung,0.00,',
      '4,electronics,,,',
    ].join('\n')
    const { items, categoryKind, notes } = parseItemsCsv(text, 'items.csv')
    expect(categoryKind).toBe('path')
    expect(notes).toEqual({ zero_price: 1 })
    expect(items.get('1')).toMatchObject({
      categories: ['appliances', 'appliances.kitchen', 'appliances.kitchen.washer'],
      brand: 'lg',
      price: 300.5,
      titleTokens: [],
    })
    expect(items.get('2')).toMatchObject({
      categories: ['2053013561218695907'],
      price: 12,
      titleTokens: ['blue', 'mug'],
    })
    expect(items.get('2')?.brand).toBeUndefined()
    expect(items.get('3')).toEqual({ categories: [], brand: 'samsung', titleTokens: [] })
    expect(items.get('4')).toEqual({ categories: ['electronics'], titleTokens: [] })
  })

  it('names the file and line of a malformed line', () => {
    const h = 'item,category,brand,price,title\n'
    expectMalformed(
      () => parseItemsCsv('item,category,price\n1,a,2\n', 'i.csv'),
      'i.csv:1: the header must be item,category,brand,price,title',
    )
    expectMalformed(() => parseItemsCsv('', 'i.csv'), 'i.csv:1: the header must be')
    expectMalformed(() => parseItemsCsv(`${h}1,a,b,2\n`, 'i.csv'), 'i.csv:2: expected 5 fields, got 4')
    expectMalformed(() => parseItemsCsv(`${h},a,b,2,\n`, 'i.csv'), 'i.csv:2: item must not be empty')
    expectMalformed(() => parseItemsCsv(`${h}1,a,b,2,\n1,a,b,2,\n`, 'i.csv'), 'i.csv:3: item 1 appears twice')
    expectMalformed(
      () => parseItemsCsv(`${h}1,a..b,b,2,\n`, 'i.csv'),
      'i.csv:2: category must not have an empty level',
    )
    expectMalformed(
      () => parseItemsCsv(`${h}1,a,b,-2,\n`, 'i.csv'),
      'i.csv:2: price must be a decimal number ≥ 0 or empty',
    )
    expectMalformed(() => parseItemsCsv(`${h}1,a,b,cheap,\n`, 'i.csv'), 'i.csv:2: price must be')
  })

  it('splits a category code into its levels', () => {
    expect(categoryPath('a.b.c')).toEqual(['a', 'a.b', 'a.b.c'])
    expect(categoryPath(' 123 ')).toEqual(['123'])
    expect(categoryPath('')).toEqual([])
    expect(categoryPath('.a')).toBeUndefined()
  })
})

describe('Online Retail item metadata', () => {
  const header = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country'
  const line = (code: string, description: string, quantity: number, price: string) =>
    `536365,${code},"${description}",${quantity},2010-12-01T08:26:00,${price},17850,United Kingdom`

  it('takes the most written description and the median unit price of the sale lines, no category', () => {
    const text = [
      header,
      line('85123A', 'WHITE HANGING HEART', 6, '2.55'),
      line('85123A', 'WHITE HANGING HEART', 1, '2.95'),
      line('85123A', 'wrong, damaged', 1, '3.05'),
      line('85123A', 'returned', -3, '9.99'),
      line('71053', '', 1, '0'),
      line('POST', 'POSTAGE', 1, '18.00'),
    ].join('\n')
    const { items, categoryKind, notes } = parseOnlineRetailItems(text, 'or.csv')
    expect(categoryKind).toBe('none')
    expect([...items.keys()]).toEqual(['85123A', '71053'])
    expect(items.get('85123A')).toMatchObject({
      categories: [],
      titleTokens: ['white', 'hanging', 'heart'],
      price: 2.95,
    })
    expect(items.get('71053')).toEqual({ categories: [], titleTokens: [] })
    expect(notes).toEqual({ no_description: 1, no_price: 1 })
  })

  it('names the file and line of a malformed line', () => {
    expectMalformed(
      () => parseOnlineRetailItems('StockCode,Quantity\n1,2\n', 'or.csv'),
      'or.csv:1: header lacks column(s) Description, UnitPrice',
    )
    expectMalformed(
      () => parseOnlineRetailItems(`${header}\n${line('1', 'A', 1, 'free')}\n`, 'or.csv'),
      'or.csv:2: UnitPrice must be a decimal number',
    )
    expectMalformed(
      () =>
        parseOnlineRetailItems(
          `${header}\n${line('1', 'A', 1, '1').replace(',1,2010', ',x,2010')}\n`,
          'or.csv',
        ),
      'or.csv:2: Quantity must be an integer',
    )
    expectMalformed(
      () => parseOnlineRetailItems(`${header}\n1,2\n`, 'or.csv'),
      'or.csv:2: expected 8 fields, got 2',
    )
  })
})

describe('price bands', () => {
  it('cuts the priced items at their quintiles; equal prices share a band; unpriced items get none', () => {
    const items = new Map<string, ItemMeta>(
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, undefined].map((price, i) => [
        String(i),
        { categories: [], titleTokens: [], ...(price === undefined ? {} : { price }) },
      ]),
    )
    // 11 prices: edges at ranks ceil(11k/5) = 3, 5, 7, 9.
    expect(assignPriceBands(items)).toEqual([3, 5, 7, 9])
    expect([...items.values()].map((m) => m.priceBand)).toEqual([
      'p1',
      'p1',
      'p1',
      'p2',
      'p2',
      'p3',
      'p3',
      'p4',
      'p4',
      'p5',
      'p5',
      undefined,
    ])
  })

  it('returns no edges when nothing has a price', () => {
    expect(assignPriceBands(new Map([['a', { categories: [], titleTokens: [] }]]))).toEqual([])
  })
})

describe('finding and loading the item file', () => {
  it('finds u.item and items.csv beside the data, the Online Retail CSV itself, nothing for OTTO', () => {
    const shop = join(dir, 'shop')
    mkdirSync(shop)
    writeFileSync(join(shop, 'items.csv'), 'item,category,brand,price,title\n')
    expect(itemsFileBeside('generic', join(shop, 'generic.csv'))).toBe(join(shop, 'items.csv'))
    expect(itemsFileBeside('movielens', join(shop, 'u.data'))).toBeUndefined()
    expect(itemsFileBeside('online-retail', join(shop, 'items.csv'))).toBe(join(shop, 'items.csv'))
    expect(itemsFileBeside('otto', join(shop, 'items.csv'))).toBeUndefined()
  })

  it('refuses a missing or empty file and OTTO, with the path in the message', () => {
    expect(() => loadItemMeta('generic', join(dir, 'nope.csv'))).toThrow(/cannot read .*nope\.csv/)
    const empty = join(dir, 'empty.csv')
    writeFileSync(empty, 'item,category,brand,price,title\n')
    expect(() => loadItemMeta('generic', empty)).toThrow(/empty\.csv: no item metadata/)
    expect(() => parseItemMeta('otto', '', 'train.jsonl')).toThrow(
      'train.jsonl: otto has no item metadata format',
    )
  })

  it('splits titles into lower-case words of any script', () => {
    expect(titleTokens("Monty Python's Life (1979)")).toEqual(['monty', 'python', 's', 'life', '1979'])
    expect(titleTokens(' -- ')).toEqual([])
  })
})
