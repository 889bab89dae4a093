// The item catalogue as it comes from outside (the --catalogue file, the operator's POST /catalogue), checked
// before any id becomes a model row: ids, and the product features (category, brand, price, title) of entries
// that describe them.
import { readFileSync } from 'node:fs'
import { itemFeatureStrings, type ProductDescription } from '@fedrec/core/server'
import { MAX_ITEM_ID_BYTES } from '@fedrec/protocol'
import { StartupError } from './errors.ts'

/** An item id the model format cannot carry (empty, too long), a catalogue that is not a list of ids, or bad features. */
export class CatalogueError extends Error {
  override name = 'CatalogueError'
  constructor(
    message: string,
    /** `bad_item_id` (the id or the list) or `bad_feature` (an entry's category, brand, price or title). */
    readonly code: 'bad_item_id' | 'bad_feature' = 'bad_item_id',
  ) {
    super(message)
  }
}

/** One product of a catalogue: its id and, when the entry describes it, its feature strings. */
export interface CatalogueItem {
  id: string
  /** From the entry's `category`, `categories`, `brand`, `price` and `title` (core's itemFeatureStrings); absent: none. */
  features?: string[]
}

/** A catalogue entry as options take it: an id, or an id with its feature strings. */
export type CatalogueEntry = string | CatalogueItem

/**
 * The ids of `entries` in order without repeats, and the feature strings of those that have some.
 * @example const { itemIds, features } = splitCatalogue(['sku-1', { id: 'sku-2', features: ['cat:mugs'] }])
 */
export function splitCatalogue(entries: readonly CatalogueEntry[]): {
  itemIds: string[]
  features: Map<string, string[]>
} {
  const itemIds: string[] = []
  const features = new Map<string, string[]>()
  const seen = new Set<string>()
  for (const entry of entries) {
    const item = typeof entry === 'string' ? { id: entry } : entry
    if (seen.has(item.id)) continue
    seen.add(item.id)
    itemIds.push(item.id)
    if (item.features && item.features.length > 0) features.set(item.id, item.features)
  }
  return { itemIds, features }
}

const utf8 = new TextEncoder()

/** The entry fields that are product features: what core's itemFeatureStrings reads (and `name`, `subcategory`). */
const FEATURE_FIELDS = ['category', 'categories', 'brand', 'price', 'title'] as const

/**
 * Checks a catalogue from outside (a request body or a file): item-id strings of 1..256 UTF-8 bytes, or
 * objects with such an `id` and optionally a product description — `category` (a path: 'kitchen.mugs' or
 * ['Kitchen', 'Mugs']; a `subcategory` is its next level), `categories`, `brand`, `price` (≥ 0), `title` (or
 * `name`) — turned into feature strings by core's itemFeatureStrings. Other fields are ignored. Returns the items in order without repeated ids (the
 * first entry of an id wins).
 * @throws CatalogueError naming the first bad entry (and its id, for a bad feature)
 * @example parseCatalogue(['sku-1', { id: 'sku-2', category: 'kitchen.mugs', price: 12 }])
 * // [{ id: 'sku-1' }, { id: 'sku-2', features: ['cat:kitchen', 'cat:kitchen.mugs', 'price:3'] }]
 */
export function parseCatalogue(input: unknown, what = 'catalogue'): CatalogueItem[] {
  if (!Array.isArray(input))
    throw new CatalogueError(`${what} must be an array of item ids, got ${typeOf(input)}`)
  const seen = new Set<string>()
  const out: CatalogueItem[] = []
  input.forEach((entry: unknown, i) => {
    const isObject = typeof entry === 'object' && entry !== null
    const id = isObject && 'id' in entry ? (entry as { id: unknown }).id : entry
    if (typeof id !== 'string')
      throw new CatalogueError(`${what}[${i}]: item id must be a string, got ${typeOf(id)}`)
    const bytes = utf8.encode(id).length
    if (bytes === 0 || bytes > MAX_ITEM_ID_BYTES)
      throw new CatalogueError(
        `${what}[${i}]: item id must be 1..${MAX_ITEM_ID_BYTES} UTF-8 bytes, got ${bytes}`,
      )
    const features = isObject ? featuresOf(entry as Record<string, unknown>, `${what}[${i}] (${id})`) : []
    if (!seen.has(id)) {
      seen.add(id)
      out.push(features.length > 0 ? { id, features } : { id })
    }
  })
  return out
}

/**
 * Checks a list of item ids from outside: `parseCatalogue`'s ids, its features checked and dropped.
 * @throws CatalogueError naming the first bad entry
 * @example parseItemIds(['sku-1', { id: 'sku-2', title: 'Mug' }]) // ['sku-1', 'sku-2']
 */
export function parseItemIds(input: unknown, what = 'catalogue'): string[] {
  return parseCatalogue(input, what).map((item) => item.id)
}

/**
 * The feature strings of one catalogue entry; `where` names it in the error. A storefront's own export
 * reads as it is: `name` is the title when there is no `title`, and `subcategory` is the level below a
 * `category` (the demo shop's catalogue.json has both).
 */
function featuresOf(entry: Record<string, unknown>, where: string): string[] {
  const product: ProductDescription = {}
  const given = (field: string): unknown => (entry[field] === null ? undefined : entry[field])
  for (const field of FEATURE_FIELDS) {
    if (given(field) !== undefined) Object.assign(product, { [field]: given(field) })
  }
  if (product.title === undefined && given('name') !== undefined)
    Object.assign(product, { title: given('name') })
  const subcategory = given('subcategory')
  try {
    if (subcategory !== undefined) {
      if (typeof subcategory !== 'string')
        throw new Error(`product subcategory must be a string, got ${JSON.stringify(subcategory)}`)
      if (typeof product.category !== 'string')
        throw new Error('product subcategory needs a category (a string) to sit under')
      product.category = [product.category, subcategory]
    }
    if (Object.keys(product).length === 0) return []
    return itemFeatureStrings(product)
  } catch (err) {
    throw new CatalogueError(`${where}: ${err instanceof Error ? err.message : String(err)}`, 'bad_feature')
  }
}

/**
 * Reads a catalogue file: JSON, an array of item-id strings or of objects with an `id` string and
 * optionally product features (see parseCatalogue).
 * @throws StartupError when the file cannot be read or parsed, or an entry is bad
 * @example const items = readCatalogueFile('apps/storefront/public/catalogue.json')
 */
export function readCatalogueFile(path: string): CatalogueItem[] {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new StartupError(
      `cannot read catalogue ${path}: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    )
  }
  try {
    return parseCatalogue(json, path)
  } catch (err) {
    throw new StartupError(err instanceof Error ? err.message : String(err), { cause: err })
  }
}

const typeOf = (x: unknown): string => (x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x)
