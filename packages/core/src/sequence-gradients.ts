// The next-item model's per-step gradients, written out by hand, and how they are summed back onto slice rows.
import type * as TF from '@tensorflow/tfjs-core'
import { ModelError } from './errors.ts'
import type { RowLookup } from './local-training.ts'

/** One step's inputs: B targets (padded) on an S-row slice; see `trainSequence` for the maths. */
export interface SequenceStepInputs {
  /** Slice embedding `[S, d]` and bias `[S, 1]`. */
  embedding: TF.Tensor2D
  bias: TF.Tensor2D
  /** The private vector `[1, d]`, when one is trained. */
  user?: TF.Tensor2D
  /** int32 `[B]`: each target's slice row. */
  positives: TF.Tensor1D
  /** int32 `[B·K]`: target t's K negatives at t·K … t·K + K − 1. */
  negatives: TF.Tensor1D
  /** `[B, S]`: row t holds target t's context weights α_tj at its context rows (zero for padding). */
  pool: TF.Tensor2D
  /** `pool` transposed, `[S, B]`. */
  poolT: TF.Tensor2D
  /** Target weights `[B, 1]`; 0 for padding targets. */
  weights: TF.Tensor2D
  /** Σ over the batch's pairs of their target's weight (known on the CPU: no readback). */
  totalWeight: number
  /** How the reads' gradients are summed onto rows (`RowLookup`); 'row-table' needs `sumTable`. */
  lookup: RowLookup
  /** int32 `[S, W]` from `buildSumTables` for this batch. */
  sumTable?: TF.Tensor2D
  l2: number
  mu: number
  globalEmbedding?: TF.Tensor2D
  globalBias?: TF.Tensor2D
  /** With item features: the slice's feature rows, which the slice items' vectors add (`FeatureCut.mix`). */
  features?: FeatureStepInputs
  /**
   * With item features, true: a negative's gradient reaches the shared feature rows only, not the item's own
   * id row and bias, so an item's own parameters learn only from the shoppers who touched it.
   */
  negativesOnFeatures?: boolean
}

/** A step's feature inputs: item s's vector is `embedding[s] + mix[s] · features.embedding`, its bias likewise. */
export interface FeatureStepInputs {
  /** The slice's feature rows `[Sf, d]` and biases `[Sf, 1]`. */
  embedding: TF.Tensor2D
  bias: TF.Tensor2D
  /** `[S, Sf]` and its transpose `[Sf, S]`. */
  mix: TF.Tensor2D
  mixT: TF.Tensor2D
  /** Their global values, for FedProx (mu > 0). */
  globalEmbedding?: TF.Tensor2D
  globalBias?: TF.Tensor2D
}

/**
 * Gradients of
 *   J = Σ_t w_t Σ_k softplus(s_t,k⁻ − s_t⁺) / Σ_t K·w_t + l2/2 (‖E‖² + ‖u‖²) + mu/2 (‖E − E₀‖² + ‖b − b₀‖²)
 * with q_t = Σ_j α_tj e_j (+ u) and s_ti = q_t·e_i + b_i, written out by hand rather than by `tf.grad`
 * (tfjs-core's gradient registry does not load in plain Node ESM, and the chain rule here is a few gathers) and checked against `tf.grads` in `train-sequence.test.ts`. Call inside `tf.tidy`.
 * With item features, e_i and b_i are the item's id row plus its pooled features (V = E + M·F, c = b + M·g),
 * the L2 and proximal terms cover F and g too, and ∂J/∂F = Mᵀ ∂J/∂V, ∂J/∂g = Mᵀ ∂J/∂c; without features
 * the operations are exactly those of the id-only model.
 * @example
 * const g = tf.tidy(() => sequenceGradients(tf, inputs)) // g.embedding [S, d], g.bias [S, 1], g.weightedLossSum
 */
export function sequenceGradients(tf: typeof TF, x: SequenceStepInputs) {
  const [rows, dim] = x.embedding.shape
  const targets = x.positives.shape[0]
  const k = x.negatives.shape[0] / targets
  const scale = x.totalWeight > 0 ? 1 / x.totalWeight : 0
  // Per-target vectors meet their K negatives and W context reads by broadcasting over a middle axis (no
  // tile: tfjs-backend-wasm's Tile kernel took most of a client round).
  const perTarget = (t: TF.Tensor) => tf.reshape(t, [targets, 1, dim])
  const f = x.features
  const table = f ? tf.add(x.embedding, tf.matMul(f.mix, f.embedding)) : x.embedding
  const tableBias = f ? tf.add(x.bias, tf.matMul(f.mix, f.bias)) : x.bias
  const pooled = tf.matMul(x.pool, table)
  const query = x.user ? tf.add(pooled, x.user) : pooled
  const ePos = tf.gather(table, x.positives)
  const eNeg = tf.reshape(tf.gather(table, x.negatives), [targets, k, dim])
  const sPos = tf.add(tf.sum(tf.mul(query, ePos), 1, true), tf.gather(tableBias, x.positives))
  const sNeg = tf.add(
    tf.sum(tf.mul(perTarget(query), eNeg), 2),
    tf.reshape(tf.gather(tableBias, x.negatives), [targets, k]),
  )
  // ℓ = softplus(s⁻ − s⁺) per pair; ∂ℓ/∂s⁻ = σ(s⁻ − s⁺) = −∂ℓ/∂s⁺.
  const margin = tf.sub(sNeg, sPos)
  const dNeg = tf.mul(tf.mul(tf.sigmoid(margin), x.weights), scale)
  const dPos = tf.neg(tf.sum(dNeg, 1, true))
  const dNegPerRead = tf.reshape(dNeg, [targets, k, 1])
  const dQuery = tf.add(tf.mul(dPos, ePos), tf.sum(tf.mul(dNegPerRead, eNeg), 1))
  // Every read's gradient, [∂e | ∂b] per read, in the order of the reads: positives, then negatives.
  const readGradients = tf.concat([
    tf.concat([tf.mul(dPos, query), dPos], 1),
    tf.concat(
      [tf.reshape(tf.mul(dNegPerRead, perTarget(query)), [targets * k, dim]), tf.reshape(dNeg, [-1, 1])],
      1,
    ),
  ])
  const readRows = tf.concat([x.positives, x.negatives])
  // Negatives kept off the id rows: the same reads a second time beside the first, the negatives' zeroed,
  // summed in the same pass (columns d + 1 … 2d + 1).
  const split = f !== undefined && x.negativesOnFeatures === true
  const summed = sumRows(
    tf,
    split
      ? tf.concat(
          [readGradients, tf.concat([tf.slice(readGradients, 0, targets), tf.zeros([targets * k, dim + 1])])],
          1,
        )
      : readGradients,
    readRows,
    rows,
    x,
  )
  // The context rows' share: ∂J/∂V += poolᵀ · ∂J/∂q.
  const contextShare = tf.matMul(x.poolT, dQuery)
  const dTable = tf.add(tf.slice(summed, [0, 0], [rows, dim]), contextShare)
  const dBias = tf.slice(summed, [0, dim], [rows, 1])
  const dOwnTable = split ? tf.add(tf.slice(summed, [0, dim + 1], [rows, dim]), contextShare) : dTable
  const dOwnBias = split ? tf.slice(summed, [0, 2 * dim + 1], [rows, 1]) : dBias
  const { l2, mu } = x
  const embedding = regularised(tf, dOwnTable, x.embedding, l2, mu, x.globalEmbedding)
  const bias = regularised(tf, dOwnBias, x.bias, 0, mu, x.globalBias)
  const features = f && {
    embedding: regularised(tf, tf.matMul(f.mixT, dTable), f.embedding, l2, mu, f.globalEmbedding),
    bias: regularised(tf, tf.matMul(f.mixT, dBias), f.bias, 0, mu, f.globalBias),
  }
  let user: TF.Tensor | undefined
  if (x.user) {
    user = tf.sum(dQuery, 0, true)
    if (x.l2 > 0) user = tf.add(user, tf.mul(x.user, x.l2))
  }
  return {
    weightedLossSum: tf.sum(tf.mul(tf.softplus(margin), x.weights)) as TF.Scalar,
    embedding,
    bias,
    features,
    user: user as TF.Tensor2D | undefined,
  }
}

/** `gradient` + l2·value + mu·(value − global): the L2 and FedProx terms of one table. */
function regularised(
  tf: typeof TF,
  gradient: TF.Tensor,
  value: TF.Tensor2D,
  l2: number,
  mu: number,
  global: TF.Tensor2D | undefined,
): TF.Tensor2D {
  let out = gradient
  if (l2 > 0) out = tf.add(out, tf.mul(value, l2))
  if (mu > 0) {
    if (!global) throw new ModelError('missing_tensor', 'sequenceGradients: mu > 0 needs the global slice')
    out = tf.add(out, tf.mul(tf.sub(value, global), mu))
  }
  return out as TF.Tensor2D
}

/** Σ of the reads' gradient rows onto the slice rows they read: the transpose of the gathers. */
function sumRows(
  tf: typeof TF,
  gradients: TF.Tensor,
  readRows: TF.Tensor1D,
  rows: number,
  x: Pick<SequenceStepInputs, 'lookup' | 'sumTable'>,
): TF.Tensor2D {
  const cols = gradients.shape[1]!
  if (x.lookup === 'scatter') {
    // scatterND sums the updates of repeated rows; padding reads carry zero gradients.
    return tf.scatterND(tf.reshape(readRows, [-1, 1]), gradients, [rows, cols]) as TF.Tensor2D
  }
  if (x.lookup === 'row-table') {
    if (!x.sumTable)
      throw new ModelError('missing_tensor', "sequenceGradients: lookup 'row-table' needs sumTable")
    const padded = tf.concat([gradients, tf.zeros([1, cols])])
    return tf.sum(tf.gather(padded, x.sumTable), 1) as TF.Tensor2D
  }
  // Any backend: onehotᵀ × gradients, O(reads · S). oneHot as float32 through a cast, not its dtype argument:
  // tfjs-backend-wasm 4.22 ignores that argument and writes the int32 bit pattern of 1 (1.4e-45).
  const onehot = tf.cast(tf.oneHot(readRows, rows), 'float32')
  return tf.matMul(onehot, gradients, true, false) as TF.Tensor2D
}
