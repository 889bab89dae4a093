// What the simulator knows about an item beyond its id (category, brand, price, title words), shared by the
// per-source metadata loaders, plus the two derivations they all use: title tokens and price bands.

/** One catalogue item's metadata, as read from a data set's item file. */
export interface ItemMeta {
  /**
   * Path formats (REES46, the generic items CSV): the category path coarse to fine, e.g.
   * `['electronics', 'electronics.smartphone']`; an opaque numeric category id is a one-element path.
   * MovieLens: the item's genres in u.item's column order (flat labels, not a path). Empty: no category.
   */
  categories: string[]
  brand?: string
  /** In the data set's currency; absent when the source has none (or lists 0.00, i.e. none). */
  price?: number
  /** `'p1'` (cheapest fifth of the catalogue's priced items) … `'p5'`; see {@link assignPriceBands}. */
  priceBand?: string
  /** Lower-case words of the title or description (letters and digits), in order, repeats kept. */
  titleTokens: string[]
  /** MovieLens: the release year (from the release date, else from the title's "(1995)"). */
  year?: number
}

/** How an item's `categories` read: a coarse-to-fine path, flat genre labels, or none in the source. */
export type CategoryKind = 'path' | 'genres' | 'none'

/** A data set's item metadata by item id (the same ids as its interactions). */
export interface ItemCatalogue {
  path: string
  categoryKind: CategoryKind
  items: Map<string, ItemMeta>
  /** The price quantiles between the bands (4 edges for 5 bands); empty when no item has a price. */
  priceEdges: number[]
  /** Rows or fields read on purpose as "nothing", by reason, e.g. `{ zero_price: 12 }`. */
  notes: Record<string, number>
}

/** Price bands per catalogue: quintiles of the priced items. */
export const PRICE_BANDS = 5

/**
 * The lower-case words of a title: runs of letters and digits (any script), in order.
 * @example titleTokens("Monty Python's Life of Brian (1979)") // ['monty', 'python', 's', 'life', 'of', 'brian', '1979']
 */
export function titleTokens(title: string): string[] {
  return title.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []
}

/**
 * Sets each priced item's `priceBand` from the quantiles of the catalogue's prices (one price per item, so a
 * cheap item sold often does not shift the edges): edge k is the k/5 quantile (nearest rank), and an item's
 * band is 1 + the number of edges strictly below its price, so `p1` holds the cheapest fifth and items
 * with equal prices share a band. Returns the edges.
 * @example const edges = assignPriceBands(items) // e.g. [1.25, 2.1, 3.75, 6.95]
 */
export function assignPriceBands(items: Map<string, ItemMeta>, bands = PRICE_BANDS): number[] {
  const prices = [...items.values()]
    .map((m) => m.price)
    .filter((p): p is number => p !== undefined)
    .sort((a, b) => a - b)
  if (prices.length === 0) return []
  const edges: number[] = []
  for (let k = 1; k < bands; k++) edges.push(prices[Math.ceil((k / bands) * prices.length) - 1]!)
  for (const meta of items.values()) {
    if (meta.price === undefined) continue
    const price = meta.price
    meta.priceBand = `p${1 + edges.filter((e) => e < price).length}`
  }
  return edges
}
