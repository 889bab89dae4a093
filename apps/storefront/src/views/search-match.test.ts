import { describe, expect, it } from 'vitest'
import type { Product } from '../catalogue.ts'
import { MAX_QUERY_LENGTH, queryTerms, searchProducts } from './search-match.ts'

const product = (id: string, name: string, category: string, description: string): Product => ({
  id,
  name,
  category,
  description,
  price: 10,
  color: '#336699',
})

const PRODUCTS = [
  product('k1', 'Bistro Mixing Bowl', 'Kitchen', 'A sturdy bowl for weeknight baking.'),
  product('g1', 'Rain Gauge', 'Garden', 'Tells you how much rain the bowl of your garden caught.'),
  product('o1', 'Rain Shell', 'Outdoor', 'Light enough for long hikes.'),
  product('b1', 'The Crème Brûlée Book', 'Books', 'Desserts, slowly.'),
  product('o2', 'Camp Bowls', 'Outdoor', 'Stacking bowls for the trail.'),
]
const ids = (query: string) => searchProducts(PRODUCTS, query).map((p) => p.id)

describe('queryTerms', () => {
  it('splits on spaces, lower-cases, drops accents and reads at most the first 100 characters', () => {
    expect(queryTerms('  Crème   BOWL ')).toEqual(['creme', 'bowl'])
    expect(queryTerms('   ')).toEqual([])
    // 98 letters, a space, then only the "b" of "bowl" fits in the 100.
    const long = 'a'.repeat(MAX_QUERY_LENGTH - 2)
    expect(queryTerms(`${long} bowl`)).toEqual([long, 'b'])
  })
})

describe('searchProducts', () => {
  it('matches every word in the name, category or description, inside words too', () => {
    expect(ids('rain')).toEqual(['g1', 'o1'])
    expect(ids('outdoor light')).toEqual(['o1'])
    expect(ids('kit')).toEqual(['k1'])
    expect(ids('creme brulee')).toEqual(['b1'])
    expect(ids('bowl tent')).toEqual([])
    expect(ids('')).toEqual([])
  })

  it('puts name matches first, then partial name matches, then the rest, each in catalogue order', () => {
    // k1 and o2 have "bowl" in the name; g1 only in its description.
    expect(ids('bowl')).toEqual(['k1', 'o2', 'g1'])
    // o1 has both words in its name; g1 only "rain" (its "garden" is the category).
    expect(ids('rain garden')).toEqual(['g1'])
    expect(ids('rain light')).toEqual(['o1'])
    expect(ids('rain bowl')).toEqual(['g1'])
    expect(ids('bowls trail')).toEqual(['o2'])
    expect(ids('bowl sturdy')).toEqual(['k1'])
  })
})
