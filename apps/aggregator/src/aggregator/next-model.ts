/** The next model, PURE: a closed round's mean delta stepped by the server optimizer, then the pending catalogue items appended. */
import { applyRound, createRng, initSharedWeights, type ServerOptimizer } from '@fedrec/core/server'
import { FEATURE_BIAS, FEATURE_EMBEDDING, ITEM_BIAS, ITEM_EMBEDDING } from '@fedrec/protocol'
import type { OptimizerState, StoredModel } from '../store/index.ts'
import { growFeatures } from './model-features.ts'

/** τ of the adaptive server optimizers; also the initial second moment (τ²) of rows added to the catalogue. */
export const SERVER_TAU = 1e-3

/**
 * What the next model is made of.
 * @example { model, optimizerState, optimizer, meanDelta: accumulator.result(), pending: ['sku-9'], seed: 11, createdAt }
 */
export interface NextModelInput {
  /** The model the closed round trained on. */
  model: StoredModel
  optimizerState: OptimizerState
  optimizer: ServerOptimizer
  /** The closed round's aggregate by tensor (`accumulator.result()`); undefined: no optimizer step. */
  meanDelta: Map<string, Float32Array> | undefined
  /** Catalogue items that join the model now, after its current rows. */
  pending: readonly string[]
  /** The feature strings of the pending items that have some (used when the model has a feature table). */
  pendingFeatures?: ReadonlyMap<string, readonly string[]>
  /** The store's seed. */
  seed: number
  createdAt: string
}

/** The model the closed round publishes, the optimizer state that goes with it, and how far the step moved it. */
export interface NextModel {
  model: StoredModel
  optimizerState: OptimizerState
  /** L2 norm of the optimizer step (0 without one). */
  updateNorm: number
}

/**
 * Version v + 1 of model v, without touching the input model or its optimizer state (no store, no clock:
 * testable with hand-worked values).
 * @example nextModel({ model, optimizerState, optimizer, meanDelta: undefined, pending: [], seed, createdAt }).model.version // model.version + 1
 */
export function nextModel(input: NextModelInput): NextModel {
  const { model, optimizer, meanDelta, pending, seed } = input
  let embedding = model.itemEmbedding
  let bias = model.itemBias
  let features = model.features
  let state = input.optimizerState
  let updateNorm = 0
  if (meanDelta) {
    // Step copies, so a failed write leaves the served model and the state in memory untouched. The feature
    // table is stepped like the item table: applyRound is generic over named tensors.
    const params = new Map([
      [ITEM_EMBEDDING, embedding.slice()],
      [ITEM_BIAS, bias.slice()],
    ])
    if (features) {
      params.set(FEATURE_EMBEDDING, features.table.embedding.slice())
      params.set(FEATURE_BIAS, features.table.bias.slice())
    }
    state = copyState(state)
    ;({ updateNorm } = applyRound(params, meanDelta, optimizer, state))
    embedding = params.get(ITEM_EMBEDDING)!
    bias = params.get(ITEM_BIAS)!
    if (features) {
      const table = {
        rows: features.table.rows,
        embedding: params.get(FEATURE_EMBEDDING)!,
        bias: params.get(FEATURE_BIAS)!,
      }
      features = { table, items: features.items }
    }
  }
  const version = model.version + 1
  if (pending.length > 0) {
    // Rows initialised like the first ones, from a generator derived from the seed and the version, so a
    // store rebuilt from the same inputs gets the same rows.
    const fresh = initSharedWeights(pending.length, model.dim, createRng(mix(seed, version)))
    // With a feature table, new items get their feature rows, and those with features an id row of 0.
    if (features)
      features = growFeatures(
        features,
        pending,
        input.pendingFeatures ?? new Map(),
        fresh.itemEmbedding,
        model.dim,
      )
    embedding = concat(embedding, fresh.itemEmbedding)
    bias = concat(bias, fresh.itemBias)
    state = extendState(state, model.dim, pending.length)
  }
  return {
    model: {
      version,
      round: model.round + 1,
      dim: model.dim,
      itemIds: pending.length > 0 ? [...model.itemIds, ...pending] : model.itemIds,
      itemEmbedding: embedding,
      itemBias: bias,
      createdAt: input.createdAt,
      ...(features ? { features } : {}),
    },
    optimizerState: state,
    updateNorm,
  }
}

function copyState(state: OptimizerState): OptimizerState {
  const out: OptimizerState = new Map()
  for (const [name, { m, v }] of state) {
    const entry: { m?: Float32Array; v?: Float32Array } = {}
    if (m) entry.m = m.slice()
    if (v) entry.v = v.slice()
    out.set(name, entry)
  }
  return out
}

/**
 * Grows the item tensors' moments by the rows of new items: m = 0, v = τ² as the optimizer starts them. The
 * feature table keeps its F rows, so its moments stay as they are.
 */
function extendState(state: OptimizerState, dim: number, newRows: number): OptimizerState {
  const out: OptimizerState = new Map()
  for (const [name, { m, v }] of state) {
    if (name !== ITEM_EMBEDDING && name !== ITEM_BIAS) {
      out.set(name, { ...(m ? { m } : {}), ...(v ? { v } : {}) })
      continue
    }
    const extra = newRows * (name === ITEM_EMBEDDING ? dim : 1)
    const entry: { m?: Float32Array; v?: Float32Array } = {}
    if (m) entry.m = concat(m, new Float32Array(extra))
    if (v) entry.v = concat(v, new Float32Array(extra).fill(SERVER_TAU * SERVER_TAU))
    out.set(name, entry)
  }
  return out
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** A 32-bit seed for the rows added at `version`, derived from the store's seed. */
function mix(seed: number, version: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(version, 0xc2b2ae35)) >>> 0
}
