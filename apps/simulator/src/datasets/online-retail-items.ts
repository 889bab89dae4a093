// Online Retail's item metadata from its own sale lines: each product's description words and unit price.
import { parseCsvTable } from './csv.ts'
import { assignPriceBands, type ItemCatalogue, type ItemMeta, titleTokens } from './item-meta.ts'
import { malformed, parseInteger } from './line-error.ts'
import { PRODUCT_CODE } from './online-retail.ts'

const REQUIRED = ['StockCode', 'Description', 'Quantity', 'UnitPrice'] as const

/**
 * Item metadata from the Online Retail CSV itself (the same file as the interactions): per product
 * StockCode, the description written most often on its sale lines (quantity > 0) as title tokens, and the
 * median unit price of those lines (the shop gives volume discounts, so one line's price is not the item's).
 * The data has no category, brand or taxonomy: `categories` stays empty. The first description word was
 * not used as one either: it is mostly a colour or a pack size ("WHITE", "SET", "PACK", "RED"), not a kind
 * of product. Non-product codes (postage, fees) are left out, as the interaction loader leaves them out.
 * @throws DatasetError naming `path` and the line of the first malformed line
 * @example parseOnlineRetailItems(text, 'online-retail.csv').items.get('85123A')?.titleTokens // ['white', 'hanging', 'heart', …]
 */
export function parseOnlineRetailItems(text: string, path: string): ItemCatalogue {
  const { rows, field } = parseCsvTable(text, path, REQUIRED)
  const seen = new Map<string, { descriptions: Map<string, number>; prices: number[] }>()
  for (const row of rows) {
    const { line } = row
    const at = (name: (typeof REQUIRED)[number]) => field(row, name)
    const code = at('StockCode').trim()
    const quantity = parseInteger(at('Quantity'))
    if (quantity === undefined) throw malformed(path, line, 'Quantity must be an integer', at('Quantity'))
    const priceText = at('UnitPrice').trim()
    const price = Number(priceText)
    if (!/^-?\d+(\.\d+)?$/.test(priceText) || !Number.isFinite(price))
      throw malformed(path, line, 'UnitPrice must be a decimal number', priceText)
    if (!PRODUCT_CODE.test(code) || quantity <= 0) continue
    const entry = seen.get(code) ?? { descriptions: new Map<string, number>(), prices: [] }
    seen.set(code, entry)
    const description = at('Description').trim()
    if (description !== '')
      entry.descriptions.set(description, (entry.descriptions.get(description) ?? 0) + 1)
    if (price > 0) entry.prices.push(price)
  }
  const items = new Map<string, ItemMeta>()
  const notes: Record<string, number> = {}
  for (const [code, { descriptions, prices }] of seen) {
    const description = mostFrequent(descriptions)
    if (description === undefined) notes.no_description = (notes.no_description ?? 0) + 1
    const price = median(prices)
    if (price === undefined) notes.no_price = (notes.no_price ?? 0) + 1
    items.set(code, {
      categories: [],
      titleTokens: titleTokens(description ?? ''),
      ...(price === undefined ? {} : { price }),
    })
  }
  const priceEdges = assignPriceBands(items)
  return { path, categoryKind: 'none', items, priceEdges, notes }
}

/** The most frequent key; ties go to the one seen first. */
function mostFrequent(counts: Map<string, number>): string | undefined {
  let best: [string, number] | undefined
  for (const entry of counts) if (!best || entry[1] > best[1]) best = entry
  return best?.[0]
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}
