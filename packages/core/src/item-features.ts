// Item features (category path, brand, price band, title tokens) hashed to rows of a shared feature table:
// how a product nobody has touched yet still gets a vector.
//
// Design. A product carries optional features as strings, `kind:value` by convention — 'cat:electronics',
// 'cat:electronics.smartphone', 'brand:samsung', 'price:3', 'tok:phone'. Each string is hashed (32-bit FNV-1a
// of its UTF-8 bytes through murmur3's finaliser, modulo F) to a row of a shared table, FEATURE_EMBEDDING [F × d] with FEATURE_BIAS [F].
// An item's vector is its id row plus its n features' rows summed and divided by √n, its bias likewise:
//   v_i = e_i + (1/√n_i) Σ_f E_f      c_i = b_i + (1/√n_i) Σ_f g_f
// so an item without features is exactly the id-only model, and a new product with features is scored by
// them alone (its id row starts at 0 — `initSharedWeights` — and moves only once shoppers touch it).
// - Hashing rather than a shared vocabulary: the row of a feature is a function of its text, so devices,
//   the aggregator and several shops federating one model agree on it without exchanging a vocabulary, and a
//   catalogue that grows new brands or tokens needs no new model round. The price is collisions: with F rows
//   and V distinct strings about V²/(2F) pairs share a row (measured in item-features.test.ts; 500 strings in
//   4096 rows: ~30 pairs). A collision mixes two features' signals; a category shares its row with a rare
//   token far more often than with another category, and the id rows absorb what the features get wrong.
// - Sum/√n rather than the mean or the sum: an item with twelve title tokens is not twelve times as far
//   from the origin as one with a category only, yet features weigh more against the id row than a mean
//   gives them. That matters because a product nobody bought is still drawn as a negative, and Adam moves
//   such an id row by about the learning rate per step however weak its gradient: on the generated shop of
//   test-cold-start.ts the untouched products' id rows grew as long as the feature rows and halved their
//   cold-start HR@10 (with the mean, 0.23 → 0.59 with those rows zeroed). Measured there (4 rounds, seeds 2/3/4): mean
//   0.23/0.19/0.17, sum/√n 0.42/0.31/0.26.
// - The feature rows are trained and federated like item rows: a client's slice holds the feature rows its
//   items use (slice.ts), its update carries their deltas as two more tensors, and the server averages them
//   row by row like the item table (aggregation/ is generic over named tensors).
import type { ItemFeatures } from '@fedrec/protocol'
import { ModelError } from './errors.ts'
import type { SharedWeights } from './weights.ts'

/**
 * Rows of the feature table when nobody says otherwise: a few hundred categories, brands and price bands
 * plus a few thousand title tokens collide in ~5–10 % of strings at 4096 rows, and the table (4096 × 32
 * floats, 512 KB) stays small beside a shop's item table.
 * @example const itemFeatures = featureRows(catalogue.map((p) => p.features), DEFAULT_FEATURE_ROWS)
 */
export const DEFAULT_FEATURE_ROWS = 4096

/**
 * Each item's feature rows, compressed (CSR): item i's rows are `rows[offsets[i] .. offsets[i + 1]]`. Items
 * past `offsets.length − 1` have none. Built by {@link featureRows}, the one place strings become rows; the
 * protocol's type, because the model download carries it.
 */
export type { ItemFeatures }

/**
 * 32-bit FNV-1a of the UTF-8 bytes of `text`: stable across calls, platforms and languages, so a feature's
 * row is the same on every device, on the server and in another shop.
 * @example fnv1a32('foobar') // 0xbf9cf968
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5
  const add = (byte: number) => {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  }
  // UTF-8 by hand (core types no platform globals such as TextEncoder); a lone surrogate is U+FFFD, as
  // TextEncoder writes it.
  for (const char of text) {
    let code = char.codePointAt(0)!
    if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd
    if (code < 0x80) add(code)
    else if (code < 0x800) {
      add(0xc0 | (code >> 6))
      add(0x80 | (code & 0x3f))
    } else if (code < 0x10000) {
      add(0xe0 | (code >> 12))
      add(0x80 | ((code >> 6) & 0x3f))
      add(0x80 | (code & 0x3f))
    } else {
      add(0xf0 | (code >> 18))
      add(0x80 | ((code >> 12) & 0x3f))
      add(0x80 | ((code >> 6) & 0x3f))
      add(0x80 | (code & 0x3f))
    }
  }
  return hash
}

/**
 * The feature-table row of one feature string.
 * @example hashFeature('brand:samsung', 4096) // the same number on every call and every device
 */
export function hashFeature(feature: string, numFeatures: number): number {
  checkNumFeatures(numFeatures)
  if (typeof feature !== 'string' || feature.length === 0) {
    throw new ModelError(
      'bad_feature',
      `a feature must be a non-empty string, got ${JSON.stringify(feature)}`,
    )
  }
  return featureHash(feature) % numFeatures
}

/**
 * FNV-1a followed by murmur3's 32-bit finaliser. FNV-1a alone is a poor row hash modulo a power of two: the
 * low k bits of a product depend only on the low k bits of its factors, so `h mod 4096` is a 12-bit FNV
 * (measured: 500 tokens 'tok:word0' … 'tok:word499' in 4096 rows gave 0 collisions where a uniform hash gives
 * ~30 — structured, so other vocabularies would pile up). The finaliser spreads every bit over the low ones.
 */
function featureHash(feature: string): number {
  let h = fnv1a32(feature)
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/**
 * The feature rows of every item of a catalogue, from its feature strings (`undefined` or `[]`: the item has
 * none). A string repeated within one item counts once. Throws `ModelError('bad_feature')` naming the item and
 * the value when a feature is not a non-empty string or an item's list is not an array.
 * @example
 * const f = featureRows([['cat:shoes', 'brand:acme'], [], ['cat:shoes']], 4096)
 * f.offsets // [0, 2, 2, 3]
 */
export function featureRows(
  features: readonly (readonly string[] | undefined)[],
  numFeatures: number = DEFAULT_FEATURE_ROWS,
): ItemFeatures {
  checkNumFeatures(numFeatures)
  if (!Array.isArray(features)) {
    throw new ModelError(
      'bad_feature',
      `item features must be an array (one list per item), got ${typeof features}`,
    )
  }
  const offsets = new Uint32Array(features.length + 1)
  const rows: number[] = []
  features.forEach((list, item) => {
    if (list !== undefined) {
      if (!Array.isArray(list)) {
        throw new ModelError(
          'bad_feature',
          `item ${item}: features must be an array of strings, got ${typeof list}`,
        )
      }
      for (const feature of new Set<unknown>(list)) {
        if (typeof feature !== 'string' || feature.length === 0) {
          throw new ModelError(
            'bad_feature',
            `item ${item}: a feature must be a non-empty string, got ${JSON.stringify(feature) ?? String(feature)}`,
          )
        }
        rows.push(featureHash(feature) % numFeatures)
      }
    }
    offsets[item + 1] = rows.length
  })
  return { numFeatures, offsets, rows: Uint32Array.from(rows) }
}

/**
 * Item `item`'s feature rows and the weight of each in its vector (1/√n; 0 rows: none): the one place the
 * pooling of features is decided.
 * @example const { rows, weight } = featuresOf(itemFeatures, 3)
 */
export function featuresOf(f: ItemFeatures | undefined, item: number): { rows: Uint32Array; weight: number } {
  if (!f || item + 1 >= f.offsets.length) return { rows: EMPTY, weight: 0 }
  const rows = f.rows.subarray(f.offsets[item]!, f.offsets[item + 1]!)
  return { rows, weight: rows.length > 0 ? 1 / Math.sqrt(rows.length) : 0 }
}

const EMPTY = new Uint32Array(0)

/**
 * Throws `ModelError` unless `itemFeatures` fits `weights`: the model has a feature table of the same F, and
 * the CSR is well formed. Absent features always fit (the model is then id-only for scoring and training).
 * @example checkItemFeatures(weights, itemFeatures)
 */
export function checkItemFeatures(weights: SharedWeights, f: ItemFeatures | undefined): void {
  if (!f) return
  if (!weights.features) {
    throw new ModelError(
      'missing_tensor',
      'item features were given but the model has no feature table (initSharedWeights with { numFeatures })',
    )
  }
  if (f.numFeatures !== weights.features.rows) {
    throw new ModelError(
      'shape_mismatch',
      `item features hash into ${f.numFeatures} rows, the model's feature table has ${weights.features.rows}`,
    )
  }
  const { offsets, rows } = f
  if (offsets.length < 1 || offsets[0] !== 0 || offsets[offsets.length - 1] !== rows.length) {
    throw new ModelError('shape_mismatch', `item features: offsets must run from 0 to ${rows.length}`)
  }
  for (let i = 1; i < offsets.length; i++) {
    if (offsets[i]! < offsets[i - 1]!)
      throw new ModelError('shape_mismatch', `item features: offsets must ascend (item ${i - 1})`)
  }
  for (const row of rows) {
    if (row >= f.numFeatures)
      throw new ModelError('row_out_of_range', `feature row ${row} is outside 0..${f.numFeatures - 1}`)
  }
}

/**
 * Every item's scoring vector and bias, id part plus pooled features, as an id-only table: what the scorer and
 * the shopper's query read. It covers `max(numItems, items with features)` rows, so products added to the
 * catalogue after the model was trained are scored by their features alone. Without `itemFeatures` (or a
 * feature table) it returns `weights` itself.
 * @example const table = itemTable(weights, itemFeatures) // table.itemEmbedding[i·d …] = v_i
 */
export function itemTable(weights: SharedWeights, itemFeatures?: ItemFeatures): SharedWeights {
  checkItemFeatures(weights, itemFeatures)
  const table = weights.features
  if (!itemFeatures || !table) return weights
  const { dim } = weights
  const numItems = itemCount(weights, itemFeatures)
  const itemEmbedding = new Float32Array(numItems * dim)
  const itemBias = new Float32Array(numItems)
  for (let item = 0; item < numItems; item++) {
    itemBias[item] = addItemVector(weights, itemFeatures, item, 1, itemEmbedding.subarray(item * dim))
  }
  return { numItems, dim, itemEmbedding, itemBias }
}

/**
 * Adds `scale · v_item` to `out[0..d]` (v_item: id row, 0 past the model's rows, plus its pooled features) and
 * returns `scale · c_item`, its bias: the one place an item's vector is composed on the CPU.
 * @example const bias = addItemVector(weights, itemFeatures, 7, 0.5, query) // query += 0.5 · v_7
 */
export function addItemVector(
  weights: SharedWeights,
  itemFeatures: ItemFeatures | undefined,
  item: number,
  scale: number,
  out: Float32Array,
): number {
  const { dim, itemEmbedding } = weights
  let bias = 0
  if (item < weights.numItems) {
    for (let c = 0; c < dim; c++) out[c]! += scale * itemEmbedding[item * dim + c]!
    bias += scale * weights.itemBias[item]!
  }
  const table = weights.features
  if (!table) return bias
  const { rows, weight } = featuresOf(itemFeatures, item)
  for (const row of rows) {
    const a = scale * weight
    for (let c = 0; c < dim; c++) out[c]! += a * table.embedding[row * dim + c]!
    bias += a * table.bias[row]!
  }
  return bias
}

/** Rows an item table over `weights` and `itemFeatures` has: the model's, or more when the catalogue grew. */
export function itemCount(weights: SharedWeights, itemFeatures?: ItemFeatures): number {
  return itemFeatures && weights.features
    ? Math.max(weights.numItems, itemFeatures.offsets.length - 1)
    : weights.numItems
}

function checkNumFeatures(numFeatures: number): void {
  if (!Number.isInteger(numFeatures) || numFeatures < 1 || numFeatures > 0xffffffff) {
    throw new ModelError('bad_option', `numFeatures must be an integer in 1..2³²−1, got ${numFeatures}`)
  }
}
