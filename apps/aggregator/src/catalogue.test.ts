import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  CatalogueError,
  parseCatalogue,
  parseItemIds,
  readCatalogueFile,
  splitCatalogue,
} from './catalogue.ts'
import { StartupError } from './errors.ts'

describe('parseItemIds', () => {
  it('accepts strings and objects with an id, keeping the first of repeats', () => {
    expect(parseItemIds(['a', { id: 'b', name: 'B' }, 'a'])).toEqual(['a', 'b'])
  })

  it.each([
    [{ itemIds: [] }, /must be an array/],
    [[''], /1\.\.256 UTF-8 bytes/],
    [['x'.repeat(257)], /got 257/],
    [[{ sku: 'a' }], /must be a string/],
    [[null], /must be a string, got null/],
  ])('refuses %j', (input, message) => {
    expect(() => parseItemIds(input)).toThrow(CatalogueError)
    expect(() => parseItemIds(input)).toThrow(message)
  })
})

describe('readCatalogueFile', () => {
  it('reads a JSON file and reports a bad one as a start-up error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedrec-catalogue-'))
    try {
      writeFileSync(join(dir, 'ok.json'), JSON.stringify([{ id: 'sku-1' }, 'sku-2']))
      expect(readCatalogueFile(join(dir, 'ok.json'))).toEqual([{ id: 'sku-1' }, { id: 'sku-2' }])
      writeFileSync(join(dir, 'bad.json'), '{ nope')
      expect(() => readCatalogueFile(join(dir, 'bad.json'))).toThrow(StartupError)
      expect(() => readCatalogueFile(join(dir, 'missing.json'))).toThrow(/cannot read catalogue/)
      writeFileSync(join(dir, 'features.json'), JSON.stringify([{ id: 'sku-1', brand: 'Acme', price: -1 }]))
      expect(() => readCatalogueFile(join(dir, 'features.json'))).toThrow(StartupError)
      expect(() => readCatalogueFile(join(dir, 'features.json'))).toThrow(
        /features\.json\[0\] \(sku-1\): product price must be a finite number ≥ 0, got -1/,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('parseCatalogue', () => {
  it('turns an entry’s category, brand, price and title into feature strings, ignoring other fields', () => {
    expect(
      parseCatalogue([
        'sku-1',
        { id: 'sku-2', description: 'A mug', color: '#fff' },
        { id: 'sku-3', category: 'Kitchen.Mugs', brand: 'Acme', price: 12, title: 'Stoneware mug' },
        { id: 'sku-4', categories: [['Drama'], 'Comedy'], price: null },
        { id: 'sku-3', brand: 'Other' },
      ]),
    ).toEqual([
      { id: 'sku-1' },
      { id: 'sku-2' },
      {
        id: 'sku-3',
        features: ['cat:kitchen', 'cat:kitchen.mugs', 'brand:acme', 'price:3', 'tok:stoneware', 'tok:mug'],
      },
      { id: 'sku-4', features: ['cat:drama', 'cat:comedy'] },
    ])
  })

  it('reads a storefront export as it is: `name` as the title, `subcategory` as the level below `category`', () => {
    const demo = { id: 's', name: 'Farmhouse Mug Set', category: 'Kitchen', subcategory: 'Mugs', price: 20 }
    expect(parseCatalogue([demo])).toEqual([
      {
        id: 's',
        features: ['cat:kitchen', 'cat:kitchen.mugs', 'price:3', 'tok:farmhouse', 'tok:mug', 'tok:set'],
      },
    ])
    // The same as core's itemFeatureStrings with the fields spelled its way; `title` wins over `name`.
    expect(parseCatalogue([{ id: 't', name: 'ignored', title: 'Mug' }])[0]?.features).toEqual(['tok:mug'])
  })

  it.each([
    [{ id: 'p', category: 'Kitchen', subcategory: 7 }, /\(p\): product subcategory must be a string, got 7/],
    [{ id: 'p', subcategory: 'Mugs' }, /\(p\): product subcategory needs a category/],
    [
      { id: 'p', category: 42 },
      /itemIds\[1\] \(p\): product category must be a string or an array of strings, got 42/,
    ],
    [{ id: 'p', categories: 'Drama' }, /itemIds\[1\] \(p\): product categories must be an array/],
    [{ id: 'p', brand: ['Acme'] }, /itemIds\[1\] \(p\): product brand must be a string/],
    [{ id: 'p', price: -3 }, /itemIds\[1\] \(p\): product price must be a finite number ≥ 0, got -3/],
    [
      { id: 'p', price: '12.50' },
      /itemIds\[1\] \(p\): product price must be a finite number ≥ 0, got 12\.50/,
    ],
    [
      { id: 'p', title: 'x'.repeat(1001) },
      /itemIds\[1\] \(p\): product title must be at most 1000 characters/,
    ],
    [
      { id: 'p', category: Array.from({ length: 17 }, () => 'a') },
      /itemIds\[1\] \(p\): product category must have at most 16 levels/,
    ],
  ])('refuses the bad feature %j naming the entry and its id', (entry, message) => {
    const parse = () => parseCatalogue(['ok', entry], 'itemIds')
    expect(parse).toThrow(message)
    try {
      parse()
    } catch (err) {
      expect(err).toBeInstanceOf(CatalogueError)
      expect((err as CatalogueError).code).toBe('bad_feature')
    }
  })
})

describe('splitCatalogue', () => {
  it('gives the ids once, in order, and the features of those that have some', () => {
    expect(splitCatalogue(['a', { id: 'b', features: ['cat:x'] }, { id: 'c', features: [] }, 'a'])).toEqual({
      itemIds: ['a', 'b', 'c'],
      features: new Map([['b', ['cat:x']]]),
    })
  })
})
