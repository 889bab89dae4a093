// Helpers shared by the tests of this app (not part of its public entry).
import {
  encodeUpdate,
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  type ModelUpdate,
  newRandomId,
  type TensorDelta,
} from '@fedrec/protocol'

/** `n` item ids: sku-0 … sku-(n-1). */
export const catalogueOf = (n: number): string[] => Array.from({ length: n }, (_, i) => `sku-${i}`)

/** Sparse rows of one tensor: row id → that row's delta values. */
export type Rows = ReadonlyArray<readonly [row: number, values: readonly number[]]>

/**
 * A client update with deterministic deltas, encoded as it goes on the wire.
 * @example const { bytes, update } = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 10, embedding: [[1, [0.1, 0.2]]], dim: 2 })
 */
export function makeUpdate(options: {
  round: number
  modelVersion: number
  sampleCount: number
  dim: number
  embedding?: Rows
  bias?: Rows
  /** Rows of the item-feature table (a model with item features). */
  featureEmbedding?: Rows
  featureBias?: Rows
  clientId?: string
  idempotencyKey?: string
}): { update: ModelUpdate; bytes: Uint8Array } {
  const tensors: TensorDelta[] = []
  if (options.embedding) tensors.push(delta(ITEM_EMBEDDING, options.dim, options.embedding))
  if (options.bias) tensors.push(delta(ITEM_BIAS, 1, options.bias))
  if (options.featureEmbedding) tensors.push(delta(FEATURE_EMBEDDING, options.dim, options.featureEmbedding))
  if (options.featureBias) tensors.push(delta(FEATURE_BIAS, 1, options.featureBias))
  // The aggregator refuses an update without a row (empty_update); a test that does not care about the
  // values gets a zero bias delta on row 0, which moves nothing.
  if (tensors.length === 0) tensors.push(delta(ITEM_BIAS, 1, [[0, [0]]]))
  const update: ModelUpdate = {
    round: options.round,
    modelVersion: options.modelVersion,
    clientId: options.clientId ?? newRandomId(),
    idempotencyKey: options.idempotencyKey ?? newRandomId(),
    sampleCount: options.sampleCount,
    tensors,
  }
  return { update, bytes: encodeUpdate(update) }
}

function delta(name: string, cols: number, rows: Rows): TensorDelta {
  const sorted = [...rows].sort((a, b) => a[0] - b[0])
  const values = new Float32Array(sorted.length * cols)
  sorted.forEach(([, v], i) => {
    if (v.length !== cols) throw new Error(`${name}: row needs ${cols} values, got ${v.length}`)
    values.set(v, i * cols)
  })
  return { name, cols, rowIds: Uint32Array.from(sorted.map(([r]) => r)), values }
}

/** A small random-looking update touching `rows` rows of a model with `numItems` items. */
export function randomUpdate(
  round: number,
  modelVersion: number,
  {
    numItems,
    dim,
    seed,
    sampleCount = 5,
  }: { numItems: number; dim: number; seed: number; sampleCount?: number },
): { update: ModelUpdate; bytes: Uint8Array } {
  let s = seed
  const next = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    return s / 2 ** 32 - 0.5
  }
  const rows = [
    ...new Set(Array.from({ length: Math.min(4, numItems) }, () => Math.floor((next() + 0.5) * numItems))),
  ]
  return makeUpdate({
    round,
    modelVersion,
    sampleCount,
    dim,
    embedding: rows.map((r) => [r, Array.from({ length: dim }, next)] as const),
    bias: rows.map((r) => [r, [next()]] as const),
  })
}
