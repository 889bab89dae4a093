// The simulator's item features: each model row's metadata (category path or genres, brand, price, title
// words) through core's itemFeatureStrings, hashed to rows of the model's feature table.
import { DEFAULT_FEATURE_ROWS, featureRows, type ItemFeatures, itemFeatureStrings } from '@fedrec/core/client'
import type { CategoryKind, ItemCatalogue, ItemMeta } from './datasets/index.ts'
import { SimulationError } from './errors.ts'
import type { SimulationOptions } from './options.ts'

/**
 * The feature strings of one item: its metadata as the product description core's `itemFeatureStrings`
 * reads (the one way shop and simulator make features, so the rows agree): the finest category (a path
 * `a.b.c` gives every level) or every genre, the brand, the price (core's fixed log-scale bands, not the
 * simulator's catalogue quintiles) and the title words.
 * @example metaFeatureStrings({ categories: ['a', 'a.b'], brand: 'x', titleTokens: ['red', 'mug'] }, 'path') // ['cat:a', 'cat:a.b', 'brand:x', 'tok:red', 'tok:mug']
 */
export function metaFeatureStrings(meta: ItemMeta, kind: CategoryKind): string[] {
  const finest = meta.categories[meta.categories.length - 1]
  return itemFeatureStrings({
    ...(kind === 'genres'
      ? { categories: meta.categories }
      : finest === undefined
        ? {}
        : { category: finest }),
    ...(meta.brand === undefined ? {} : { brand: meta.brand }),
    ...(meta.price === undefined ? {} : { price: meta.price }),
    ...(meta.titleTokens.length > 0 ? { title: meta.titleTokens.join(' ') } : {}),
  })
}

/**
 * Every model row's feature rows (`itemIds[i]` is row i), in a table of `numFeatures` rows; rows without
 * metadata have none (they are id-only).
 * @example const f = catalogueFeatures(catalogue, split.itemIds, 4096)
 */
export function catalogueFeatures(
  catalogue: ItemCatalogue,
  itemIds: readonly string[],
  numFeatures: number,
): ItemFeatures {
  return featureRows(
    itemIds.map((id) => {
      const meta = catalogue.items.get(id)
      return meta ? metaFeatureStrings(meta, catalogue.categoryKind) : undefined
    }),
    numFeatures,
  )
}

/**
 * The run's item features, or undefined for the id-only model: `--item-features off`, no item metadata, or
 * (unless asked for) a run over the aggregator, whose store decides, or with secure aggregation, whose masked
 * vector the feature table would grow by 4·F·(2 + d) bytes.
 * @throws SimulationError when `on` is asked for and there is no item metadata
 * @example const features = runItemFeatures(options, catalogue, split.itemIds)
 */
export function runItemFeatures(
  options: Pick<SimulationOptions, 'itemFeatures' | 'featureRows' | 'endpoint' | 'secureAggregation'>,
  catalogue: ItemCatalogue | undefined,
  itemIds: readonly string[],
): ItemFeatures | undefined {
  if (options.itemFeatures === 'off') return undefined
  if (!catalogue) {
    if (options.itemFeatures === 'on')
      throw new SimulationError('bad_option', 'itemFeatures on needs item metadata (--items), none was found')
    return undefined
  }
  if (options.itemFeatures === undefined && (options.endpoint !== undefined || options.secureAggregation))
    return undefined
  return catalogueFeatures(catalogue, itemIds, options.featureRows ?? DEFAULT_FEATURE_ROWS)
}
