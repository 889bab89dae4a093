// The shop's featured products: the fixed set its promotions slot picks from.
import type { Catalogue, Product } from '../catalogue.ts'
import { interleave } from './interleave.ts'

/** How many featured products each department puts forward. */
export const FEATURED_PER_DEPARTMENT = 2

/**
 * The featured products: the first two of each department in catalogue order, departments taking turns
 * (every department is first in line once per round). Fixed, so the slot's only variable is the shopper.
 * @example featuredProducts(catalogue).length // 16 for eight departments
 */
export function featuredProducts(catalogue: Catalogue): Product[] {
  const picked = catalogue.categories.flatMap((category) =>
    catalogue.products.filter((p) => p.category === category).slice(0, FEATURED_PER_DEPARTMENT),
  )
  return interleave(picked, (p) => p.category)
}
