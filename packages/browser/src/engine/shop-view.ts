// One shop's part of a model several shops share: its own items under its namespace, the shared feature table.
import type { SharedWeights } from '@fedrec/core/client'
import { ITEM_BIAS, ITEM_EMBEDDING, type ItemFeatures, type TensorDelta } from '@fedrec/protocol'

/** A model as one shop sees it: only its items, under the ids the shop uses. */
export interface ShopView {
  /** The shop's id rows (copied, in model order) and the shared feature table (the same arrays). */
  weights: SharedWeights
  itemFeatures?: ItemFeatures
  /** The shop's ids without the `<shop>:` prefix; row i of the view is `itemIds[i]`. */
  itemIds: string[]
  /** Row i of the view is row `sharedRows[i]` of the shared model. */
  sharedRows: Uint32Array
}

/**
 * The part of a shared model that is shop `shop`'s: the items whose id starts with `<shop>:`, in model order,
 * with that prefix removed, their id rows and feature rows, and the whole feature table. Everything the
 * device does on it — scoring, the negatives drawn in training, row padding — stays within the shop's
 * catalogue; {@link toSharedRows} moves an update's item rows back to the shared model's.
 * @example shopView(weights, itemFeatures, ['a:sku-1', 'b:sku-1', 'a:sku-2'], 'a').itemIds // ['sku-1', 'sku-2']
 */
export function shopView(
  weights: SharedWeights,
  itemFeatures: ItemFeatures | undefined,
  itemIds: readonly string[],
  shop: string,
): ShopView {
  const prefix = `${shop}:`
  const rows: number[] = []
  const ids: string[] = []
  for (const [row, id] of itemIds.entries()) {
    if (row < weights.numItems && id.startsWith(prefix)) {
      rows.push(row)
      ids.push(id.slice(prefix.length))
    }
  }
  const { dim } = weights
  const itemEmbedding = new Float32Array(rows.length * dim)
  const itemBias = new Float32Array(rows.length)
  for (const [i, row] of rows.entries()) {
    itemEmbedding.set(weights.itemEmbedding.subarray(row * dim, (row + 1) * dim), i * dim)
    itemBias[i] = weights.itemBias[row]!
  }
  const view: ShopView = {
    weights: {
      numItems: rows.length,
      dim,
      itemEmbedding,
      itemBias,
      ...(weights.features ? { features: weights.features } : {}),
    },
    itemIds: ids,
    sharedRows: Uint32Array.from(rows),
  }
  if (itemFeatures) view.itemFeatures = featuresOfRows(itemFeatures, rows)
  return view
}

/** The item-feature lists of `rows`, in that order (an item past the lists has none). */
function featuresOfRows(f: ItemFeatures, rows: readonly number[]): ItemFeatures {
  const listed = f.offsets.length - 1
  const offsets = new Uint32Array(rows.length + 1)
  const picked: number[] = []
  for (const [i, row] of rows.entries()) {
    if (row < listed) for (let j = f.offsets[row]!; j < f.offsets[row + 1]!; j++) picked.push(f.rows[j]!)
    offsets[i + 1] = picked.length
  }
  return { numFeatures: f.numFeatures, offsets, rows: Uint32Array.from(picked) }
}

/**
 * An update trained on a shop's view, as the shared model's: the item tensors' rows moved to the shared rows;
 * the feature tensors' rows are the shared table's already.
 * @example toSharedRows(result.deltas, view.sharedRows)
 */
export function toSharedRows(deltas: readonly TensorDelta[], sharedRows: Uint32Array): TensorDelta[] {
  return deltas.map((d) =>
    d.name === ITEM_EMBEDDING || d.name === ITEM_BIAS
      ? { ...d, rowIds: d.rowIds.map((r) => sharedRows[r]!) }
      : d,
  )
}
