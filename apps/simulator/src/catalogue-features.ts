// The simulator's item features: each model row's metadata (category path or genres, brand, price band,
// title words, MovieLens's decade) as core's feature strings, hashed to rows of the model's feature table.
import { DEFAULT_FEATURE_ROWS, featureRows, type ItemFeatures } from '@fedrec/core/client'
import type { ItemCatalogue, ItemMeta } from './datasets/index.ts'
import { SimulationError } from './errors.ts'
import type { SimulationOptions } from './options.ts'

/**
 * The feature strings of one item, `kind:value` as core's item-features.ts documents: every level of the
 * category path (or every genre) as `cat:`, `brand:`, `price:` (the catalogue's quintile band), each title
 * word as `tok:` and the release decade as `decade:`.
 * @example metaFeatureStrings({ categories: ['a', 'a.b'], brand: 'x', titleTokens: ['red'] }) // ['cat:a', 'cat:a.b', 'brand:x', 'tok:red']
 */
export function metaFeatureStrings(meta: ItemMeta): string[] {
  const out = meta.categories.map((c) => `cat:${c}`)
  if (meta.brand) out.push(`brand:${meta.brand}`)
  if (meta.priceBand) out.push(`price:${meta.priceBand}`)
  for (const token of meta.titleTokens) out.push(`tok:${token}`)
  if (meta.year !== undefined) out.push(`decade:${Math.floor(meta.year / 10) * 10}`)
  return out
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
      return meta ? metaFeatureStrings(meta) : undefined
    }),
    numFeatures,
  )
}

/**
 * The run's item features, or undefined for the id-only model: `--item-features off`, no item metadata, or
 * (unless asked for) a run whose model the aggregator or secure aggregation keeps id-only.
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
