import { describe, expect, it } from 'vitest'
import { ModelError } from './errors.ts'
import { itemFeatureStrings, MAX_TITLE_TOKENS, priceBand } from './item-feature-strings.ts'

const errorOf = (f: () => unknown): ModelError => {
  try {
    f()
  } catch (err) {
    if (err instanceof ModelError) return err
    throw err
  }
  throw new Error('expected a ModelError')
}

describe('itemFeatureStrings', () => {
  it('gives category levels broadest first, brand, price band and title tokens, in that order', () => {
    expect(
      itemFeatureStrings({
        category: 'electronics.smartphone',
        brand: 'Samsung',
        price: 249,
        title: 'Galaxy A15, 128 GB',
      }),
    ).toEqual([
      'cat:electronics',
      'cat:electronics.smartphone',
      'brand:samsung',
      'price:5',
      'tok:galaxy',
      'tok:a15',
      'tok:gb',
    ])
  })

  it('gives nothing for an empty description, and only what is described', () => {
    expect(itemFeatureStrings({})).toEqual([])
    expect(itemFeatureStrings({ price: 0 })).toEqual(['price:0'])
    expect(itemFeatureStrings({ brand: '   ', category: '', title: 'a 12 of' })).toEqual([])
  })

  it('reads a path as levels or split at ".", ">" and "/", skipping empty levels', () => {
    const levels = ['cat:home', 'cat:home.kitchen', 'cat:home.kitchen.knives']
    expect(itemFeatureStrings({ category: ['Home', 'Kitchen', 'Knives'] })).toEqual(levels)
    expect(itemFeatureStrings({ category: 'Home > Kitchen > Knives' })).toEqual(levels)
    expect(itemFeatureStrings({ category: 'home/kitchen//knives' })).toEqual(levels)
    // A '.' inside a level given as an array cannot forge a deeper path.
    expect(itemFeatureStrings({ category: ['a.b'] })).toEqual(['cat:a b'])
  })

  it('gives the strings of every path of a product in several categories, each once', () => {
    expect(itemFeatureStrings({ categories: ['Comedy', 'Drama'], category: 'Comedy' })).toEqual([
      'cat:comedy',
      'cat:drama',
    ])
  })

  it('normalises text: NFKC, lower case, white space trimmed and collapsed', () => {
    expect(itemFeatureStrings({ brand: '  ＳＯＮＹ  ', category: 'Home  \t Garden' })).toEqual([
      'cat:home garden',
      'brand:sony',
    ])
    // 'ﬁ' (U+FB01) is 'fi' under NFKC.
    expect(itemFeatureStrings({ title: 'ﬁne Café' })).toEqual(['tok:fine', 'tok:café'])
  })

  it('splits titles at punctuation, drops apostrophes inside words, one-character, digit-only and stop words', () => {
    expect(itemFeatureStrings({ title: 'WHITE HANGING HEART T-LIGHT HOLDER' })).toEqual([
      'tok:white',
      'tok:hanging',
      'tok:heart',
      'tok:light',
      'tok:holder',
    ])
    expect(itemFeatureStrings({ title: "Children's set of 12 pencils — for the 2024 school" })).toEqual([
      'tok:childrens',
      'tok:set',
      'tok:pencils',
      'tok:school',
    ])
  })

  it(`keeps at most ${MAX_TITLE_TOKENS} distinct title tokens, the first ones`, () => {
    const title = 'red red one two three four five six seven eight nine ten'
    expect(itemFeatureStrings({ title })).toEqual(
      ['red', 'one', 'two', 'three', 'four', 'five', 'six', 'seven'].map((t) => `tok:${t}`),
    )
  })

  it('refuses bad input with a ModelError naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [{ price: Number.NaN }, /price must be a finite number ≥ 0, got NaN/],
      [{ price: Number.POSITIVE_INFINITY }, /price .* got Infinity/],
      [{ price: -1 }, /price .* got -1/],
      [{ price: '12' }, /price .* got 12/],
      [{ brand: 7 }, /brand must be a string, got 7/],
      [{ title: 'x'.repeat(1001) }, /title must be at most 1000 characters, got 1001 characters/],
      [{ brand: 'x'.repeat(201) }, /brand must be at most 200 characters/],
      [{ category: ['ok', 3] }, /category level 1 must be a string, got 3/],
      [{ category: 5 }, /category must be a string or an array of strings, got 5/],
      [{ category: Array.from({ length: 17 }, () => 'a') }, /category must have at most 16 levels/],
      [{ categories: 'Comedy' }, /categories must be an array/],
      [{ categories: ['ok', { a: 1 }] }, /categories\[1\] must be a string or an array/],
      [null, /must be an object, got object/],
    ]
    for (const [product, message] of cases) {
      const err = errorOf(() => itemFeatureStrings(product as never))
      expect(err.code).toBe('bad_feature')
      expect(err.message).toMatch(message)
    }
  })
})

describe('priceBand', () => {
  it('puts each edge in the band above it', () => {
    const cases: [number, number][] = [
      [0, 0],
      [0.99, 0],
      [1, 1],
      [2.99, 1],
      [3, 2],
      [10, 3],
      [99.99, 4],
      [100, 5],
      [999, 6],
      [1000, 7],
      [9999, 8],
      [10000, 9],
      [1e9, 9],
    ]
    for (const [price, band] of cases) expect(priceBand(price), String(price)).toBe(band)
  })
})
