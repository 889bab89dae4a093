// The shared model as plain arrays, and its conversion to and from the wire format: what the aggregator
// averages and the device trains.
import { ITEM_BIAS, ITEM_EMBEDDING, type ModelSnapshot, type ModelTensor } from '@fedrec/protocol'
import { ModelError } from './errors.ts'
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
}

/**
 * A fresh shared model: embeddings ~ N(0, scale²), biases 0.
 * @example
 * const weights = initSharedWeights(5000, DEFAULT_DIM, createRng(1))
 */
export function initSharedWeights(
  numItems: number,
  dim: number,
  rng: Rng,
  scale = DEFAULT_INIT_SCALE,
): SharedWeights {
  checkShape(numItems, dim)
  return {
    numItems,
    dim,
    itemEmbedding: normalArray(numItems * dim, rng, scale),
    itemBias: new Float32Array(numItems),
  }
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
  for (const [t, cols] of [
    [embedding, dim],
    [bias, 1],
  ] as const) {
    if (t.rows !== numItems || t.cols !== cols || t.values.length !== numItems * cols) {
      throw new ModelError(
        'shape_mismatch',
        `tensor ${t.name} is ${t.rows}×${t.cols} with ${t.values.length} values; expected ${numItems}×${cols} (one row per item id)`,
      )
    }
    const bad = firstNonFinite(t.values)
    if (bad >= 0)
      throw new ModelError('non_finite', `tensor ${t.name} has a non-finite value at index ${bad}`)
  }
  return { numItems, dim, itemEmbedding: embedding.values, itemBias: bias.values }
}

/**
 * The shared weights as wire tensors, `[ITEM_EMBEDDING, ITEM_BIAS]`, sharing the arrays.
 * @example
 * const snapshot: ModelSnapshot = { modelVersion: 0, round: 0, itemIds, tensors: sharedWeightsToTensors(weights) }
 */
export function sharedWeightsToTensors(w: SharedWeights): ModelTensor[] {
  return [
    { name: ITEM_EMBEDDING, rows: w.numItems, cols: w.dim, values: w.itemEmbedding },
    { name: ITEM_BIAS, rows: w.numItems, cols: 1, values: w.itemBias },
  ]
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
