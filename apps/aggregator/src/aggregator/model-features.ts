/** A model's item features as the aggregator grows them: the rows of catalogue items' feature strings, hashed once, when the items join. */
import { featureRows, featuresOf, initSharedWeights, type Rng } from '@fedrec/core/server'
import type { StoredFeatures } from '../store/index.ts'

/**
 * The features of a fresh model of `itemIds`: a feature table of `numFeatures` rows ~ N(0, 0.1²) with zero
 * biases, the rows each item's strings hash to, and the item tensors with the id rows of items that have
 * features at 0 (core's initSharedWeights: such an item is scored by its features until shoppers touch it).
 * An empty catalogue still gets its table (drawn beside one throw-away item row), so items queued later
 * have one to hash into.
 * @example const { features, itemEmbedding, itemBias } = freshFeatureModel(ids, strings, 4096, 32, rng)
 */
export function freshFeatureModel(
  itemIds: readonly string[],
  strings: ReadonlyMap<string, readonly string[]>,
  numFeatures: number,
  dim: number,
  rng: Rng,
): { features: StoredFeatures; itemEmbedding: Float32Array; itemBias: Float32Array } {
  const items = featureRows(
    itemIds.map((id) => strings.get(id)),
    numFeatures,
  )
  const weights = initSharedWeights(Math.max(1, itemIds.length), dim, rng, {
    numFeatures,
    ...(itemIds.length > 0 ? { itemFeatures: items } : {}),
  })
  const table = weights.features!
  return {
    features: { table: { rows: table.rows, embedding: table.embedding, bias: table.bias }, items },
    itemEmbedding: itemIds.length > 0 ? weights.itemEmbedding : new Float32Array(0),
    itemBias: itemIds.length > 0 ? weights.itemBias : new Float32Array(0),
  }
}

/**
 * `features` with the items `added` appended (their strings hashed into the same table), and the id rows of
 * those of them that have features set to 0 in `embedding` (`added.length × dim` values, the new items'
 * rows, changed in place).
 * @example const grown = growFeatures(model.features, pending, pendingStrings, fresh.itemEmbedding, dim)
 */
export function growFeatures(
  features: StoredFeatures,
  added: readonly string[],
  strings: ReadonlyMap<string, readonly string[]>,
  embedding: Float32Array,
  dim: number,
): StoredFeatures {
  const { numFeatures, offsets, rows } = features.items
  const fresh = featureRows(
    added.map((id) => strings.get(id)),
    numFeatures,
  )
  const base = offsets[offsets.length - 1]!
  const grownOffsets = new Uint32Array(offsets.length + added.length)
  grownOffsets.set(offsets)
  for (let i = 0; i < added.length; i++) {
    grownOffsets[offsets.length + i] = base + fresh.offsets[i + 1]!
    if (fresh.offsets[i + 1]! > fresh.offsets[i]!) embedding.fill(0, i * dim, (i + 1) * dim)
  }
  const grownRows = new Uint32Array(rows.length + fresh.rows.length)
  grownRows.set(rows)
  grownRows.set(fresh.rows, rows.length)
  return { table: features.table, items: { numFeatures, offsets: grownOffsets, rows: grownRows } }
}

/**
 * The ids among `offered` the catalogue already holds (in the model, or queued with `pending` strings) with
 * other features than offered: an item keeps the features it joined with (a model item's rows are part of
 * every model and patch since), so these offers change nothing, and the caller says so. Compared as hashed
 * rows for model items (the model keeps rows, not strings) and as string sets for queued ones; an entry
 * offered without features is a plain id and changes nothing either.
 * @example const ignored = ignoredFeatureChanges(model, pendingStrings, offered) // ['sku-7']
 */
export function ignoredFeatureChanges(
  model: { itemIds: readonly string[]; features?: StoredFeatures | undefined },
  pending: ReadonlyMap<string, readonly string[]>,
  offered: ReadonlyMap<string, readonly string[]>,
): string[] {
  const f = model.features
  if (!f || offered.size === 0) return []
  const indexOf = new Map(model.itemIds.map((id, i) => [id, i]))
  const sorted = (rows: ArrayLike<number>) =>
    Array.from(rows)
      .sort((a, b) => a - b)
      .join(',')
  const key = (list: readonly string[]) => [...new Set(list)].sort().join('\n')
  const ignored: string[] = []
  for (const [id, strings] of offered) {
    const item = indexOf.get(id)
    if (item !== undefined) {
      const held = featuresOf(f.items, item).rows
      if (sorted(held) !== sorted(featureRows([strings], f.items.numFeatures).rows)) ignored.push(id)
      continue
    }
    const queued = pending.get(id)
    if (queued === undefined) continue
    if (key(queued) !== key(strings)) ignored.push(id)
  }
  return ignored
}
