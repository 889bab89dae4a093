// A product's description (category path, brand, price, title) as the feature strings item-features.ts
// hashes: the one place the shop, the simulator and the aggregator turn a product into features, so a
// product has the same features, hence the same rows, wherever it is described.
//
// The strings, in this order, without repeats:
// - `cat:<level1>`, `cat:<level1>.<level2>`, … — one per level of the category path, broadest first, so two
//   products share their family row even where their leaves differ. A path is given as levels
//   (['Electronics', 'Smartphone']) or as one string split at '.', '>' or '/' ('electronics.smartphone', as
//   REES46 writes it; 'Home > Kitchen'). Several paths (`categories`, e.g. MovieLens's genres) give the
//   strings of each.
// - `brand:<brand>`.
// - `price:<band>`, band 0–9 on a log scale with a step of about √10 (PRICE_BAND_EDGES): < 1, 1–3, 3–10,
//   10–30, 30–100, 100–300, 300–1,000, 1,000–3,000, 3,000–10,000, ≥ 10,000 (lower edge included). A fixed scale,
//   not quantiles of one catalogue, because the band must be a function of the product alone: the same
//   product is in the same band in every shop and after the catalogue grows. Prices are in the shop's own
//   currency; shops that federate together should pass prices in one currency.
// - `tok:<token>` — at most MAX_TITLE_TOKENS distinct title words in title order (the first words of a title
//   name the product; later ones are sizes and colours more often).
//
// Text normalisation, for every part: Unicode NFKC (full-width 'ＳＯＮＹ' is 'sony', 'ﬁ' is 'fi'), lower case,
// surrounding white space trimmed and inner runs of white space made one space. Title tokens are the runs of
// letters, marks and digits (\p{L}\p{M}\p{N}) after apostrophes inside words are dropped ("children's" →
// 'childrens'); every other character (punctuation, hyphens, symbols) separates tokens. Dropped: tokens of one
// character, tokens of digits only (pack counts, sizes and years say little about taste and would spread over
// many rows), and English stop words (STOP_WORDS). A category level or brand that normalises to '' gives no
// string. '.' inside a level given as an array becomes a space, so it cannot forge a deeper path.
import { ModelError } from './errors.ts'

/** A product as a catalogue describes it; every part is optional. */
export interface ProductDescription {
  /** The category path, broadest first: levels, or one string split at '.', '>' or '/'. */
  category?: string | readonly string[]
  /** More category paths, for a product in several categories (MovieLens genres). */
  categories?: readonly (string | readonly string[])[]
  brand?: string
  /** In the shop's currency, ≥ 0. */
  price?: number
  /** The product's name; its first {@link MAX_TITLE_TOKENS} useful words become `tok:` features. */
  title?: string
}

/** Title words kept per product. */
export const MAX_TITLE_TOKENS = 8

/** Lower edges of price bands 1–9 (band 0 is below 1): a log scale in steps of about √10. */
export const PRICE_BAND_EDGES: readonly number[] = [1, 3, 10, 30, 100, 300, 1000, 3000, 10000]

// Longer than any real title, brand or category name: past these, the input is a bug (a description pasted
// into the title, a whole path in one level), and hashing megabytes per product would stall a device.
const MAX_TITLE_CHARS = 1000
const MAX_NAME_CHARS = 200
const MAX_CATEGORY_LEVELS = 16
const MAX_CATEGORY_PATHS = 64

/** Common English words that say nothing about a product ('set of', 'for the'). */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be but by for from has have in into is it its of on or our so than that the their ' +
    'this to was were will with without your you'
  ).split(' '),
)

/**
 * The feature strings of one product, for `featureRows`. Throws `ModelError('bad_feature')` naming the field
 * when a part has the wrong type, a price is negative or not finite, or a text is absurdly long.
 * @example
 * itemFeatureStrings({ category: 'electronics.smartphone', brand: 'Samsung', price: 249, title: 'Galaxy A15, 128 GB' })
 * // ['cat:electronics', 'cat:electronics.smartphone', 'brand:samsung', 'price:5', 'tok:galaxy', 'tok:a15', 'tok:gb']
 */
export function itemFeatureStrings(product: ProductDescription): string[] {
  if (typeof product !== 'object' || product === null) {
    throw new ModelError('bad_feature', `a product description must be an object, got ${typeof product}`)
  }
  const out = new Set<string>()
  if (product.category !== undefined) addPath(out, product.category, 'category')
  if (product.categories !== undefined) {
    const { categories } = product
    if (!Array.isArray(categories)) fail('categories', 'must be an array of category paths', categories)
    if (categories.length > MAX_CATEGORY_PATHS) {
      fail('categories', `must hold at most ${MAX_CATEGORY_PATHS} paths`, `${categories.length} paths`)
    }
    categories.forEach((path, i) => {
      addPath(out, path, `categories[${i}]`)
    })
  }
  if (product.brand !== undefined) {
    const brand = normalise(checkText(product.brand, 'brand', MAX_NAME_CHARS))
    if (brand !== '') out.add(`brand:${brand}`)
  }
  if (product.price !== undefined) out.add(`price:${priceBand(product.price)}`)
  if (product.title !== undefined) {
    for (const token of titleTokens(checkText(product.title, 'title', MAX_TITLE_CHARS)))
      out.add(`tok:${token}`)
  }
  return [...out]
}

/**
 * The price band 0–9 of a price (see PRICE_BAND_EDGES). Throws `ModelError('bad_feature')` for a price that is
 * not a finite number ≥ 0.
 * @example priceBand(249) // 5 (100 ≤ 249 < 300)
 */
export function priceBand(price: number): number {
  if (typeof price !== 'number' || !Number.isFinite(price) || price < 0) {
    fail('price', 'must be a finite number ≥ 0', price)
  }
  let band = 0
  while (band < PRICE_BAND_EDGES.length && price >= PRICE_BAND_EDGES[band]!) band++
  return band
}

function addPath(out: Set<string>, path: unknown, field: string): void {
  let levels: readonly unknown[]
  if (typeof path === 'string') {
    levels = checkText(path, field, MAX_NAME_CHARS * MAX_CATEGORY_LEVELS).split(/[.>/]/)
  } else if (Array.isArray(path)) {
    levels = path
  } else {
    fail(field, 'must be a string or an array of strings', path)
  }
  if (levels.length > MAX_CATEGORY_LEVELS) {
    fail(field, `must have at most ${MAX_CATEGORY_LEVELS} levels`, `${levels.length} levels`)
  }
  let prefix = ''
  levels.forEach((level, i) => {
    const name = normalise(checkText(level, `${field} level ${i}`, MAX_NAME_CHARS).replaceAll('.', ' '))
    if (name === '') return
    prefix = prefix === '' ? name : `${prefix}.${name}`
    out.add(`cat:${prefix}`)
  })
}

function titleTokens(title: string): string[] {
  const words = normalise(title)
    .replace(/(?<=[\p{L}\p{M}\p{N}])['’](?=[\p{L}\p{M}\p{N}])/gu, '')
    .split(/[^\p{L}\p{M}\p{N}]+/u)
  const tokens = new Set<string>()
  for (const word of words) {
    if (tokens.size === MAX_TITLE_TOKENS) break
    if (word.length < 2 || /^\p{N}+$/u.test(word) || STOP_WORDS.has(word)) continue
    tokens.add(word)
  }
  return [...tokens]
}

const normalise = (text: string): string => text.normalize('NFKC').toLowerCase().trim().replace(/\s+/gu, ' ')

function checkText(value: unknown, field: string, maxChars: number): string {
  if (typeof value !== 'string') fail(field, 'must be a string', value)
  if (value.length > maxChars)
    fail(field, `must be at most ${maxChars} characters`, `${value.length} characters`)
  return value
}

function fail(field: string, what: string, value: unknown): never {
  const shown =
    typeof value === 'string' || typeof value === 'number'
      ? String(value)
      : (JSON.stringify(value) ?? String(value))
  throw new ModelError('bad_feature', `product ${field} ${what}, got ${shown.slice(0, 80)}`)
}
