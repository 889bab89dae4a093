// The part of the shared tables one client trains: only the item rows it reads (and their feature rows),
// padded so WebGL reuses its shaders.
import { ModelError } from './errors.ts'
import { featuresOf, type ItemFeatures } from './item-features.ts'
import type { SharedWeights } from './weights.ts'

/** The rows one client trains of one shared table (embedding and bias), re-indexed 0..S-1. */
export interface TableCut {
  rows: Uint32Array
  /** Global row → local row. */
  local: Map<number, number>
  embedding: Float32Array
  bias: Float32Array
  paddedRows: number
}

/** The shared rows one client trains: the item rows its examples read and, with features, theirs. */
export interface RowCut extends TableCut {
  /** The feature rows of the slice's items; absent for an id-only model or items without features. */
  features?: FeatureCut
}

/** The feature rows of a slice's items, and how each slice item mixes them. */
export interface FeatureCut extends TableCut {
  /**
   * `[S, Sf]` row-major, both padded: item s's vector is its id row + Σ_f mix[s, f] · feature row f (its
   * pooled features: 1/√n at each of its n features, summed where two of them hash to one row).
   */
  mix: Float32Array
  /** `mix` transposed, `[Sf, S]`: tfjs-backend-wasm multiplies by a transposed operand 10–40× slower. */
  mixT: Float32Array
}

/**
 * Copies the global values of `touched` item rows (ascending, padded to a bucket; padding rows are 0), and
 * with `itemFeatures` those of the feature rows these items use, with their mixing matrix.
 * @example
 * const cut = cutRows(weights, new Set([4, 1, 0]), itemFeatures) // cut.rows [0, 1, 4]; cut.features?.rows
 */
export function cutRows(
  weights: SharedWeights,
  touched: Iterable<number>,
  itemFeatures?: ItemFeatures,
): RowCut {
  const items = cutTable(
    { rows: weights.numItems, dim: weights.dim, embedding: weights.itemEmbedding, bias: weights.itemBias },
    touched,
    'sample row',
  )
  const table = weights.features
  if (!itemFeatures || !table) return items
  const used = new Set<number>()
  for (const item of items.rows) for (const row of featuresOf(itemFeatures, item).rows) used.add(row)
  if (used.size === 0) return items
  const cut = cutTable({ ...table, dim: weights.dim }, used, 'feature row')
  const s = items.paddedRows
  const sf = cut.paddedRows
  const mix = new Float32Array(s * sf)
  const mixT = new Float32Array(sf * s)
  items.rows.forEach((item, i) => {
    const { rows, weight } = featuresOf(itemFeatures, item)
    for (const row of rows) {
      const f = cut.local.get(row)!
      mix[i * sf + f]! += weight
      mixT[f * s + i]! += weight
    }
  })
  return { ...items, features: { ...cut, mix, mixT } }
}

function cutTable(
  table: { rows: number; dim: number; embedding: Float32Array; bias: Float32Array },
  touched: Iterable<number>,
  what: string,
): TableCut {
  const { dim } = table
  const rows = Uint32Array.from(touched).sort()
  const local = new Map<number, number>()
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!
    if (row >= table.rows) {
      throw new ModelError('row_out_of_range', `${what} ${row} is outside 0..${table.rows - 1}`)
    }
    local.set(row, i)
  }
  const paddedRows = bucket(rows.length, 16)
  const embedding = new Float32Array(paddedRows * dim)
  const bias = new Float32Array(paddedRows)
  rows.forEach((row, i) => {
    embedding.set(table.embedding.subarray(row * dim, (row + 1) * dim), i * dim)
    bias[i] = table.bias[row]!
  })
  return { rows, local, embedding, bias, paddedRows }
}

/**
 * `n` rounded up to a power of two (at least `min`). WebGL compiles a shader per distinct input shape, so
 * rounding keeps the program cache warm across shoppers and rounds instead of compiling ~30 programs for
 * every new slice size; the padding rows never appear in a batch and stay exactly 0.
 */
export function bucket(n: number, min: number): number {
  let size = min
  while (size < n) size *= 2
  return size
}
