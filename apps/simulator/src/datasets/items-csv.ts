// The generic item-metadata CSV `item,category,brand,price,title` (REES46's items.csv is one): category
// paths, brands and prices of a shop's catalogue.
import { parseCsv } from './csv.ts'
import { assignPriceBands, type ItemCatalogue, type ItemMeta, titleTokens } from './item-meta.ts'
import { malformed } from './line-error.ts'

const HEADER = 'item,category,brand,price,title'

/**
 * A category code as a path, coarse to fine: `'appliances.kitchen.washer'` →
 * `['appliances', 'appliances.kitchen', 'appliances.kitchen.washer']` (each level keeps its parents, so
 * two shops' "kitchen" under different parents stay apart). A code without dots, such as REES46's 19-digit
 * `category_id` for products that have no `category_code`, is one opaque category. Empty: no category.
 * @example categoryPath('electronics.smartphone') // ['electronics', 'electronics.smartphone']
 */
export function categoryPath(code: string): string[] | undefined {
  const c = code.trim()
  if (c === '') return []
  const parts = c.split('.')
  if (parts.some((p) => p.trim() === '')) return undefined
  return parts.map((_, i) => parts.slice(0, i + 1).join('.'))
}

/**
 * The items CSV: header `item,category,brand,price,title` (required, exactly those names), then one line
 * per item. `category` is a dotted path or an opaque code ({@link categoryPath}); `brand` and `title` may be
 * empty; `price` is a decimal ≥ 0 or empty. A price of 0 means "no price" (REES46 lists some products at
 * 0.00; no shop sells them for nothing) and is counted in `notes.zero_price`.
 * @throws DatasetError naming `path` and the line of the first malformed line
 * @example parseItemsCsv('item,category,brand,price,title\n1002098,electronics.smartphone,samsung,409.02,\n', 'items.csv')
 */
export function parseItemsCsv(text: string, path: string): ItemCatalogue {
  const records = parseCsv(text, path)
  const header = records[0]
  if (!header || header.fields.map((f) => f.trim()).join(',') !== HEADER)
    throw malformed(path, header?.line ?? 1, `the header must be ${HEADER}`, header?.fields.join(','))
  const items = new Map<string, ItemMeta>()
  const notes: Record<string, number> = {}
  for (const { line, fields } of records.slice(1)) {
    if (fields.length !== 5)
      throw malformed(path, line, `expected 5 fields, got ${fields.length}`, fields.join(','))
    const [item, category, brand, priceText, title] = fields.map((f) => f.trim()) as [
      string,
      string,
      string,
      string,
      string,
    ]
    if (item === '') throw malformed(path, line, 'item must not be empty', fields.join(','))
    if (items.has(item)) throw malformed(path, line, `item ${item} appears twice`, fields.join(','))
    const categories = categoryPath(category)
    if (!categories)
      throw malformed(path, line, 'category must not have an empty level between dots', category)
    const price = priceText === '' ? undefined : Number(priceText)
    if (price !== undefined && !(/^\d+(\.\d+)?$/.test(priceText) && Number.isFinite(price)))
      throw malformed(path, line, 'price must be a decimal number ≥ 0 or empty', priceText)
    if (price === 0) notes.zero_price = (notes.zero_price ?? 0) + 1
    items.set(item, {
      categories,
      ...(brand === '' ? {} : { brand }),
      ...(price === undefined || price === 0 ? {} : { price }),
      titleTokens: titleTokens(title),
    })
  }
  const priceEdges = assignPriceBands(items)
  return { path, categoryKind: 'path', items, priceEdges, notes }
}
