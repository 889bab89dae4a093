// The shared model as plain arrays, and its conversion to and from the wire format: what the aggregator
// averages and the device trains.
import {
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  type ModelSnapshot,
  type ModelTensor,
} from '@fedrec/protocol'
import { ModelError } from './errors.ts'
import { featuresOf, type ItemFeatures } from './item-features.ts'
import type { Rng } from './rng.ts'

/**
 * Embedding width used when nobody says otherwise: the width the speed budget was measured at (one BPR
 * step on a 256-row slice in ~15 ms on software WebGL) and the usual width for MF baselines.
 * @example
 * const weights = initSharedWeights(catalogue.length, DEFAULT_DIM, createRng(1))
 */
export const DEFAULT_DIM = 32

/** Scale of the N(0, scale²) initialisation: small enough that initial scores are near 0 for every item. */
const DEFAULT_INIT_SCALE = 0.1

/** The shared part of the model as plain arrays: what the aggregator averages and the worker trains on. */
export interface SharedWeights {
  numItems: number
  dim: number
  /** Row-major `numItems × dim`; row i is the item whose id is `itemIds[i]` in the snapshot. */
  itemEmbedding: Float32Array
  /** One bias per item; it learns popularity, so a new shopper's scores are not random. */
  itemBias: Float32Array
  /** The shared item-feature table (item-features.ts); absent: an id-only model, exactly as before. */
  features?: FeatureTable
}

/** The shared item-feature table: F rows of `dim` values and one bias each, indexed by hashed feature. */
export interface FeatureTable {
  /** F. */
  rows: number
  /** Row-major `F × dim`. */
  embedding: Float32Array
  bias: Float32Array
}

/** Options of {@link initSharedWeights}. */
export interface InitOptions {
  /** Scale of the N(0, scale²) initialisation (default 0.1). */
  scale?: number
  /** F: give the model a feature table of this many rows (`DEFAULT_FEATURE_ROWS`); absent: id-only. */
  numFeatures?: number
  /** The catalogue's features: the id rows of items that have some start at 0 (see below). */
  itemFeatures?: ItemFeatures
}

/**
 * A fresh shared model: embeddings ~ N(0, scale²), biases 0. With `numFeatures`, a feature table too, its rows
 * ~ N(0, scale²); then the id row of every item that has features starts at 0, so a product is scored by its
 * features alone until shoppers touch it (a random id row would only add noise to what its features say).
 * Items without features keep a random id row: an all-zero model gives every gradient of an item vector a
 * zero factor, so it would never leave 0.
 * @example
 * const weights = initSharedWeights(5000, DEFAULT_DIM, createRng(1))
 * const withFeatures = initSharedWeights(5000, DEFAULT_DIM, createRng(1), { numFeatures: 4096, itemFeatures })
 */
export function initSharedWeights(
  numItems: number,
  dim: number,
  rng: Rng,
  options: number | InitOptions = {},
): SharedWeights {
  const {
    scale = DEFAULT_INIT_SCALE,
    numFeatures,
    itemFeatures,
  } = typeof options === 'number' ? { scale: options } : options
  checkShape(numItems, dim)
  const itemEmbedding = normalArray(numItems * dim, rng, scale)
  const weights: SharedWeights = { numItems, dim, itemEmbedding, itemBias: new Float32Array(numItems) }
  if (numFeatures === undefined) {
    if (itemFeatures)
      throw new ModelError('bad_option', 'itemFeatures need numFeatures (the rows of the feature table)')
    return weights
  }
  if (!Number.isInteger(numFeatures) || numFeatures < 1) {
    throw new ModelError('bad_option', `numFeatures must be a positive integer, got ${numFeatures}`)
  }
  if (itemFeatures && itemFeatures.numFeatures !== numFeatures) {
    throw new ModelError(
      'shape_mismatch',
      `itemFeatures hash into ${itemFeatures.numFeatures} rows, numFeatures is ${numFeatures}`,
    )
  }
  for (let item = 0; item < numItems; item++) {
    if (featuresOf(itemFeatures, item).rows.length > 0) itemEmbedding.fill(0, item * dim, (item + 1) * dim)
  }
  weights.features = {
    rows: numFeatures,
    embedding: normalArray(numFeatures * dim, rng, scale),
    bias: new Float32Array(numFeatures),
  }
  return weights
}

/**
 * Reads the shared weights out of a downloaded model. The arrays are shared with the snapshot, not copied
 * (a 50,000 × 32 table is 6.4 MB); nothing in this package writes to them.
 * Throws a `ModelError` when a tensor is missing, misshaped or not finite.
 * @example
 * const weights = sharedWeightsFromSnapshot(decodeModel(bytes))
 */
export function sharedWeightsFromSnapshot(s: ModelSnapshot): SharedWeights {
  const numItems = s.itemIds.length
  const embedding = findTensor(s, ITEM_EMBEDDING)
  const bias = findTensor(s, ITEM_BIAS)
  const dim = embedding.cols
  checkShape(numItems, dim)
  checkTensor(embedding, numItems, dim, 'one row per item id')
  checkTensor(bias, numItems, 1, 'one row per item id')
  const weights: SharedWeights = { numItems, dim, itemEmbedding: embedding.values, itemBias: bias.values }
  const hasFeatures = s.tensors.some((t) => t.name === FEATURE_EMBEDDING || t.name === FEATURE_BIAS)
  if (!hasFeatures) return weights
  // A feature table comes whole: its embedding and its biases, one bias per row.
  const featureEmbedding = findTensor(s, FEATURE_EMBEDDING)
  const featureBias = findTensor(s, FEATURE_BIAS)
  const rows = featureEmbedding.rows
  if (rows < 1) throw new ModelError('shape_mismatch', `tensor ${FEATURE_EMBEDDING} has no rows`)
  checkTensor(featureEmbedding, rows, dim, `the item table's ${dim} columns`)
  checkTensor(featureBias, rows, 1, `one row per ${FEATURE_EMBEDDING} row`)
  weights.features = { rows, embedding: featureEmbedding.values, bias: featureBias.values }
  return weights
}

function checkTensor(t: ModelTensor, rows: number, cols: number, why: string): void {
  if (t.rows !== rows || t.cols !== cols || t.values.length !== rows * cols) {
    throw new ModelError(
      'shape_mismatch',
      `tensor ${t.name} is ${t.rows}×${t.cols} with ${t.values.length} values; expected ${rows}×${cols} (${why})`,
    )
  }
  const bad = firstNonFinite(t.values)
  if (bad >= 0) throw new ModelError('non_finite', `tensor ${t.name} has a non-finite value at index ${bad}`)
}

/**
 * The shared weights as wire tensors, `[ITEM_EMBEDDING, ITEM_BIAS]` (then `FEATURE_EMBEDDING, FEATURE_BIAS`
 * when the model has a feature table), sharing the arrays. Their names and shapes are also what the server's
 * accumulator is created with.
 * @example
 * const snapshot: ModelSnapshot = { modelVersion: 0, round: 0, itemIds, tensors: sharedWeightsToTensors(weights) }
 * const accumulator = createAccumulator({ tensors: sharedWeightsToTensors(weights), rowNormalization: 'touched' })
 */
export function sharedWeightsToTensors(w: SharedWeights): ModelTensor[] {
  const tensors: ModelTensor[] = [
    { name: ITEM_EMBEDDING, rows: w.numItems, cols: w.dim, values: w.itemEmbedding },
    { name: ITEM_BIAS, rows: w.numItems, cols: 1, values: w.itemBias },
  ]
  if (w.features) {
    const { rows, embedding, bias } = w.features
    tensors.push(
      { name: FEATURE_EMBEDDING, rows, cols: w.dim, values: embedding },
      { name: FEATURE_BIAS, rows, cols: 1, values: bias },
    )
  }
  return tensors
}

/**
 * A new shopper's private vector, ~ N(0, scale²). It never leaves the device.
 * @example
 * const userVector = initUserVector(weights.dim, createRng(seedFromStorage))
 */
export function initUserVector(dim: number, rng: Rng, scale = DEFAULT_INIT_SCALE): Float32Array {
  checkShape(1, dim)
  return normalArray(dim, rng, scale)
}

function normalArray(length: number, rng: Rng, scale: number): Float32Array {
  if (!(Number.isFinite(scale) && scale >= 0)) {
    throw new ModelError('bad_option', `init scale must be finite and >= 0, got ${scale}`)
  }
  const out = new Float32Array(length)
  for (let i = 0; i < length; i++) out[i] = rng.normal() * scale
  return out
}

function checkShape(numItems: number, dim: number): void {
  if (!Number.isInteger(numItems) || numItems <= 0) {
    throw new ModelError('bad_option', `numItems must be a positive integer, got ${numItems}`)
  }
  if (!Number.isInteger(dim) || dim <= 0) {
    throw new ModelError('bad_option', `dim must be a positive integer, got ${dim}`)
  }
}

function findTensor(s: ModelSnapshot, name: string): ModelTensor {
  const t = s.tensors.find((x) => x.name === name)
  if (!t) {
    const have = s.tensors.map((x) => x.name).join(', ') || 'none'
    throw new ModelError('missing_tensor', `model has no tensor ${name} (it has: ${have})`)
  }
  return t
}

/** Index of the first NaN or ±Infinity, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i
  return -1
}
