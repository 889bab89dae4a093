// A data set's item metadata as the feature strings core hashes to rows of the shared feature table.
import type { ItemMeta } from './datasets/index.ts'

/**
 * The feature strings of one item, `kind:value` as core's item-features.ts names them: each category level
 * (`cat:electronics`, `cat:electronics.smartphone`; MovieLens: each genre), `brand:…`, the price band
 * `price:p1`…`p5`, and each distinct title word `tok:…`. The strings are the same in every shop that has the
 * item or one like it, which is all that shops federating together share.
 * @example itemFeatureStringsOf({ categories: ['a', 'a.b'], brand: 'x', titleTokens: [] }) // ['cat:a', 'cat:a.b', 'brand:x']
 */
export function itemFeatureStringsOf(meta: ItemMeta): string[] {
  return [
    ...meta.categories.map((c) => `cat:${c}`),
    ...(meta.brand === undefined ? [] : [`brand:${meta.brand}`]),
    ...(meta.priceBand === undefined ? [] : [`price:${meta.priceBand}`]),
    ...new Set(meta.titleTokens.map((t) => `tok:${t}`)),
  ]
}
