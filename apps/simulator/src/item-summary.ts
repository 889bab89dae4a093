// What the results file says about a run's item metadata: where it came from and how much of the
// catalogue it covers.
import type { CategoryKind, ItemCatalogue } from './datasets/index.ts'
import type { SplitDataset } from './split.ts'

/** The item metadata of a run, in numbers. */
export interface ItemSummary {
  path: string
  categoryKind: CategoryKind
  /** Items in the metadata file. */
  items: number
  /** Model rows (items with interactions) that have metadata, and of those how many have a category / a price. */
  rowsWithMetadata: number
  rowsWithCategory: number
  rowsWithPrice: number
  /** Distinct finest categories (genres for MovieLens) among the model rows. */
  categories: number
  priceEdges: number[]
  notes: Record<string, number>
}

/**
 * Counts what `catalogue` covers of the split's model rows.
 * @example summariseItems(loadItemMeta('movielens', 'u.item'), split).rowsWithCategory // 1682
 */
export function summariseItems(catalogue: ItemCatalogue, split: SplitDataset): ItemSummary {
  let withMeta = 0
  let withCategory = 0
  let withPrice = 0
  const categories = new Set<string>()
  for (const id of split.itemIds) {
    const meta = catalogue.items.get(id)
    if (!meta) continue
    withMeta++
    if (meta.categories.length > 0) withCategory++
    if (meta.price !== undefined) withPrice++
    const finest = catalogue.categoryKind === 'genres' ? meta.categories : meta.categories.slice(-1)
    for (const c of finest) categories.add(c)
  }
  return {
    path: catalogue.path,
    categoryKind: catalogue.categoryKind,
    items: catalogue.items.size,
    rowsWithMetadata: withMeta,
    rowsWithCategory: withCategory,
    rowsWithPrice: withPrice,
    categories: categories.size,
    priceEdges: catalogue.priceEdges,
    notes: catalogue.notes,
  }
}
