// The shop's own search, before any personal ordering: which products match a query, in the shop's order.
import type { Product } from '../catalogue.ts'

/** The longest query the search box takes; a longer one is cut there (a pasted paragraph matches nothing). */
export const MAX_QUERY_LENGTH = 100

/**
 * The words of a query, lower-cased and without accents, at most {@link MAX_QUERY_LENGTH} characters read.
 * @example queryTerms('  Crème   BOWL ') // ['creme', 'bowl']
 */
export function queryTerms(query: string): string[] {
  return fold(query.slice(0, MAX_QUERY_LENGTH))
    .split(/\s+/)
    .filter((term) => term !== '')
}

/**
 * The products whose name, category or description contain every word of `query` (anywhere in a word:
 * "bowl" finds "Bowls"), in the shop's match order: every word in the name first, then some words in the
 * name, then the rest; the catalogue's order within each. An empty query matches nothing.
 * @example searchProducts(catalogue.products, 'mixing bowl').map((p) => p.id) // ['sku-kitchen-001', …]
 */
export function searchProducts(products: readonly Product[], query: string): Product[] {
  const terms = queryTerms(query)
  if (terms.length === 0) return []
  const tiers: Product[][] = [[], [], []]
  for (const product of products) {
    const name = fold(product.name)
    const text = `${name} ${fold(product.category)} ${fold(product.description)}`
    if (!terms.every((term) => text.includes(term))) continue
    const inName = terms.filter((term) => name.includes(term)).length
    tiers[inName === terms.length ? 0 : inName > 0 ? 1 : 2]!.push(product)
  }
  return tiers.flat()
}

/** Lower case without diacritics, so "creme" finds "Crème". */
function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()
}
