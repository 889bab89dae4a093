// The demo storefront's products for QA scenarios, and the catalogue file their aggregator serves.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** A product of the demo storefront (apps/storefront/public/catalogue.json). */
export interface Product {
  id: string
  name: string
  category: string
}

/** The storefront's catalogue file; pass it to the aggregator as `--catalogue`. */
export const storefrontCataloguePath = fileURLToPath(
  new URL('../../apps/storefront/public/catalogue.json', import.meta.url),
)

/**
 * The storefront's 240 generated products in 8 categories.
 * @example const products = loadStorefrontCatalogue(); products[0].category // 'Kitchen'
 */
export function loadStorefrontCatalogue(): Product[] {
  const raw: unknown = JSON.parse(readFileSync(storefrontCataloguePath, 'utf8'))
  if (!Array.isArray(raw)) throw new Error(`${storefrontCataloguePath}: expected a JSON array`)
  return raw.map((p: unknown, i) => {
    const r = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>
    if (typeof r.id !== 'string' || typeof r.name !== 'string' || typeof r.category !== 'string')
      throw new Error(`${storefrontCataloguePath}: product ${i} lacks an id, name or category`)
    return { id: r.id, name: r.name, category: r.category }
  })
}

/** Distinct categories, in catalogue order. */
export const categoriesOf = (products: readonly Product[]): string[] => [
  ...new Set(products.map((p) => p.category)),
]
