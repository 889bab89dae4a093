// The demo shop's products, loaded from catalogue.json and checked: the aggregator trusts the same file.

/** One product as public/catalogue.json lists it (the aggregator reads the same file). */
export interface Product {
  id: string
  name: string
  category: string
  /**
   * Optional item features (see README, "Catalogue format"): the level below `category` and the maker. With
   * `category`, `price` and `name` they become the product's feature strings (core's `itemFeatureStrings`),
   * so a product added later is recommended by them before any shopper has touched it.
   */
  subcategory?: string
  brand?: string
  price: number
  description: string
  /** Category tint for the generated placeholder image, '#rrggbb'. */
  color: string
}

/** The catalogue with the look-ups the pages need. */
export interface Catalogue {
  products: readonly Product[]
  /** Category names in first-seen order. */
  categories: readonly string[]
  byId(id: string): Product | undefined
}

export class CatalogueError extends Error {
  override name = 'CatalogueError'
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null

/**
 * Checks a parsed catalogue.json entry by entry; a bad entry is an error naming its index, not a silent skip,
 * because the aggregator trusts the same file.
 * @example parseCatalogue(await (await fetch('/catalogue.json')).json())
 */
export function parseCatalogue(data: unknown): Catalogue {
  if (!Array.isArray(data)) throw new CatalogueError(`catalogue must be an array, got ${typeof data}`)
  const products: Product[] = []
  const index = new Map<string, Product>()
  data.forEach((entry: unknown, i) => {
    if (!isRecord(entry)) throw new CatalogueError(`catalogue[${i}] is not an object`)
    const { id, name, category, subcategory, brand, price, description, color } = entry
    const fail = (what: string) => new CatalogueError(`catalogue[${i}] (${JSON.stringify(id)}): ${what}`)
    if (typeof id !== 'string' || id === '') throw fail('id must be a non-empty string')
    if (typeof name !== 'string' || name === '') throw fail('name must be a non-empty string')
    if (typeof category !== 'string' || category === '') throw fail('category must be a non-empty string')
    if (typeof price !== 'number' || !Number.isFinite(price) || price < 0)
      throw fail('price must be a number ≥ 0')
    if (typeof description !== 'string') throw fail('description must be a string')
    if (typeof color !== 'string' || !/^#[0-9a-f]{6}$/i.test(color)) throw fail('color must be #rrggbb')
    for (const [field, value] of [
      ['subcategory', subcategory],
      ['brand', brand],
    ] as const) {
      if (value !== undefined && (typeof value !== 'string' || value === '' || value.length > 200))
        throw fail(`${field}, when given, must be a string of 1..200 characters`)
    }
    const product: Product = { id, name, category, price, description, color }
    if (typeof subcategory === 'string') product.subcategory = subcategory
    if (typeof brand === 'string') product.brand = brand
    if (index.has(product.id)) throw fail('duplicate id')
    index.set(id, product)
    products.push(product)
  })
  return {
    products,
    categories: [...new Set(products.map((p) => p.category))],
    byId: (id) => index.get(id),
  }
}

/** Fetches and checks the catalogue served beside the app. */
export async function loadCatalogue(url: string): Promise<Catalogue> {
  const res = await fetch(url)
  if (!res.ok) throw new CatalogueError(`GET ${url} answered ${res.status}`)
  return parseCatalogue(await res.json())
}

/** URL-safe form of a category name: 'Kitchen' → 'kitchen'. */
export const categorySlug = (category: string): string => category.toLowerCase().replace(/[^a-z0-9]+/g, '-')
