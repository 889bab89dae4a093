import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CatalogueError, categorySlug, parseCatalogue } from './catalogue.ts'

const item = { id: 'sku-a', name: 'A', category: 'Kitchen', price: 1.5, description: '', color: '#aabbcc' }

describe('parseCatalogue', () => {
  it('accepts the committed catalogue: 8 categories of 30', () => {
    const json: unknown = JSON.parse(
      readFileSync(new URL('../public/catalogue.json', import.meta.url), 'utf8'),
    )
    const catalogue = parseCatalogue(json)
    expect(catalogue.products).toHaveLength(240)
    expect(catalogue.categories).toHaveLength(8)
    expect(catalogue.byId('sku-kitchen-007')?.category).toBe('Kitchen')
    // Every product carries the optional item features: a level below its category and a brand.
    expect(catalogue.products.every((p) => p.subcategory && p.brand)).toBe(true)
    expect(new Set(catalogue.products.map((p) => p.brand)).size).toBeGreaterThanOrEqual(16)
  })

  it("accepts the second demo shop's catalogue: other ids, the same categories and brands", () => {
    const read = (file: string) =>
      parseCatalogue(JSON.parse(readFileSync(new URL(`../public/${file}`, import.meta.url), 'utf8')))
    const a = read('catalogue.json')
    const b = read('catalogue-b.json')
    expect(b.products).toHaveLength(96)
    expect(b.categories).toEqual(a.categories)
    expect(b.products.some((p) => a.byId(p.id))).toBe(false)
    const brandsOfA = new Set(a.products.map((p) => p.brand))
    expect(b.products.every((p) => brandsOfA.has(p.brand))).toBe(true)
  })

  it('keeps the optional features when given and names a bad one', () => {
    const featured = { ...item, subcategory: 'Skillet', brand: 'Hearthstone' }
    expect(parseCatalogue([featured]).byId('sku-a')).toEqual(featured)
    expect(parseCatalogue([item]).byId('sku-a')).toEqual(item)
    expect(() => parseCatalogue([{ ...item, brand: 7 }])).toThrow(/catalogue\[0\].*brand/)
    expect(() => parseCatalogue([{ ...item, subcategory: '' }])).toThrow(/catalogue\[0\].*subcategory/)
    expect(() => parseCatalogue([{ ...item, brand: 'x'.repeat(201) }])).toThrow(/brand/)
  })

  it('names the entry that is wrong', () => {
    expect(() => parseCatalogue({})).toThrow(CatalogueError)
    expect(() => parseCatalogue([item, { ...item, id: 'sku-b', price: '3' }])).toThrow(
      /catalogue\[1\].*price/,
    )
    expect(() => parseCatalogue([item, item])).toThrow(/duplicate id/)
    expect(() => parseCatalogue([{ ...item, color: 'red' }])).toThrow(/color/)
  })

  it('looks products up by id', () => {
    const catalogue = parseCatalogue([item])
    expect(catalogue.byId('sku-a')).toEqual(item)
    expect(catalogue.byId('nope')).toBeUndefined()
  })
})

describe('categorySlug', () => {
  it('lower-cases and dashes', () => {
    expect(categorySlug('Home & Garden')).toBe('home-garden')
  })
})
