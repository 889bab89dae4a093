import type * as TF from '@tensorflow/tfjs-core'
import { ModelError } from './errors.ts'

/** Which pairwise loss to train with. */
export type LossKind = 'bpr' | 'logistic'

/**
 * How the objective reads a batch's rows out of the slice and sums the batch's gradients back onto slice
 * rows. Same maths, different kernels; `rowLookupFor` picks the fastest measured on each backend
 * (docs/benchmarks.md, "Optimisations"):
 * - `one-hot`: B × S one-hot matrices and matMuls through them, O(B·S) a step. Needs nothing but matMul and
 *   oneHot, so it runs on any backend.
 * - `scatter`: `gather` forward, `scatterND` (which sums duplicate rows) backward; O(B) on CPU and WASM. On
 *   WebGL scatterND is a shader that loops over every pair for every row, O(B·S) again.
 * - `row-table`: `gather` forward; backward, each slice row gathers the pair gradients that land on it
 *   through a table built on the CPU (`rowTable`, see `buildRowTables`) and sums them: O(S·K) for K pairs
 *   at most per row, where WebGL cannot scatter.
 * tfjs's own gradient of `gather` (UnsortedSegmentSum) is not used: a loop of kernels per row on CPU,
 * missing on WASM, and a multi-pass O(B·S) shader on WebGL.
 */
export type RowLookup = 'one-hot' | 'scatter' | 'row-table'

/**
 * The `RowLookup` measured fastest on a tfjs backend; `one-hot` for one it does not know.
 * @example rowLookupFor(tf.getBackend()) // 'row-table' on WebGL
 */
export function rowLookupFor(backend: string): RowLookup {
  if (backend === 'webgl') return 'row-table'
  if (backend === 'wasm' || backend === 'cpu') return 'scatter'
  return 'one-hot'
}

/** One batch of the local objective, on a slice of `S` shared rows. */
export interface ObjectiveInputs {
  /** Slice embedding `[S, d]`. */
  embedding: TF.Tensor2D
  /** Slice bias `[S, 1]`. */
  bias: TF.Tensor2D
  /** The shopper's vector `[1, d]`. */
  user: TF.Tensor2D
  /** Slice-local rows of the batch's positives and negatives, int32 `[B]`. */
  positives: TF.Tensor1D
  negatives: TF.Tensor1D
  /** Pair weights `[B, 1]`; 0 for padding pairs, which then contribute nothing. */
  weights: TF.Tensor2D
  /** Σ weights of the batch, known on the CPU already, so no readback is needed. */
  totalWeight: number
  lookup: RowLookup
  /**
   * For `row-table`, int32 `[S, K]`: for slice row r, the positions in [d⁺ (B) | d⁻ (B) | 0] of the batch's
   * pairs whose positive (position i) or negative (position B + i) is r, padded with 2B (the trailing 0).
   */
  rowTable?: TF.Tensor2D
  /**
   * false: only the user vector's gradient is wanted (the shared rows are held fixed, as in the refit), so
   * the slice gradients, S × d each, are not computed and come back undefined. Default true.
   */
  sharedGradients?: boolean
  loss: LossKind
  /** L2 on the slice embedding and the user vector (not the biases: they carry popularity). */
  l2: number
  /** FedProx proximal strength on the slice's shared parameters. */
  mu: number
  /** The global values of the slice, needed when `mu > 0`. */
  globalEmbedding?: TF.Tensor2D
  globalBias?: TF.Tensor2D
}

/** Gradients of the batch objective, and its un-normalised data loss Σ w·ℓ (for epoch means). */
export interface ObjectiveGradients {
  weightedLossSum: TF.Scalar
  /** Undefined when `sharedGradients` is false. */
  embedding: TF.Tensor2D | undefined
  bias: TF.Tensor2D | undefined
  user: TF.Tensor2D
}

/**
 * Gradients of
 *   J = Σ_i w_i ℓ_i / Σ_i w_i + l2/2 (‖E‖² + ‖u‖²) + mu/2 (‖E − E₀‖² + ‖b − b₀‖²)
 * written out by hand rather than by `tf.grad`, for two reasons:
 * - `tf.grad` needs tfjs-core's gradient registry, which only its ESM deep import
 *   `@tensorflow/tfjs-core/dist/register_all_gradients` fills; that file does not load in plain Node ESM
 *   (extension-less and directory imports), so the Node simulator could not train;
 * - for matrix factorisation the chain rule is three matMuls through the slice scores s = E uᵀ + b,
 *   cheaper than the tape.
 * The row lookups and their transpose are `x.lookup` (see `RowLookup`).
 * Must be called inside `tf.tidy`. `objective.test.ts` checks it against `tf.grads` of J written with plain ops.
 */
export function objectiveGradients(tf: typeof TF, x: ObjectiveInputs): ObjectiveGradients {
  const sliceRows = x.embedding.shape[0]
  const scores = tf.add(tf.matMul(x.embedding, x.user, false, true), x.bias) as TF.Tensor2D
  const rows = lookupRows(tf, x, scores)
  const sPos = rows.positives
  const sNeg = rows.negatives
  const scale = x.totalWeight > 0 ? 1 / x.totalWeight : 0

  let perPair: TF.Tensor
  let dPos: TF.Tensor2D
  let dNeg: TF.Tensor2D
  if (x.loss === 'bpr') {
    // ℓ = −log σ(s⁺ − s⁻) = softplus(s⁻ − s⁺);  dℓ/ds⁺ = −σ(s⁻ − s⁺) = −dℓ/ds⁻.
    const margin = tf.sub(sNeg, sPos)
    perPair = tf.softplus(margin)
    dPos = tf.mul(tf.mul(tf.sigmoid(margin), x.weights), -scale) as TF.Tensor2D
    dNeg = tf.neg(dPos)
  } else {
    // ℓ = −log σ(s⁺) − log(1 − σ(s⁻)) = softplus(−s⁺) + softplus(s⁻).
    perPair = tf.add(tf.softplus(tf.neg(sPos)), tf.softplus(sNeg))
    dPos = tf.mul(tf.mul(tf.sigmoid(tf.neg(sPos)), x.weights), -scale) as TF.Tensor2D
    dNeg = tf.mul(tf.mul(tf.sigmoid(sNeg), x.weights), scale) as TF.Tensor2D
  }
  // The per-pair score gradients summed back onto slice rows: the transpose of the lookup.
  const dScores = rows.sumBack(dPos, dNeg, sliceRows)

  let gUser = tf.matMul(dScores, x.embedding, true, false) as TF.Tensor2D // [1,S]×[S,d]
  if (x.l2 > 0) gUser = tf.add(gUser, tf.mul(x.user, x.l2))
  const weightedLossSum = tf.sum(tf.mul(perPair, x.weights)) as TF.Scalar
  if (x.sharedGradients === false) {
    return { weightedLossSum, embedding: undefined, bias: undefined, user: gUser }
  }
  let gEmbedding = tf.matMul(dScores, x.user) as TF.Tensor2D // [S,1]×[1,d]
  let gBias: TF.Tensor2D = dScores
  if (x.l2 > 0) gEmbedding = tf.add(gEmbedding, tf.mul(x.embedding, x.l2))
  if (x.mu > 0) {
    if (!x.globalEmbedding || !x.globalBias)
      throw new Error('objectiveGradients: mu > 0 needs the global slice')
    gEmbedding = tf.add(gEmbedding, tf.mul(tf.sub(x.embedding, x.globalEmbedding), x.mu))
    gBias = tf.add(gBias, tf.mul(tf.sub(x.bias, x.globalBias), x.mu))
  }
  return { weightedLossSum, embedding: gEmbedding, bias: gBias, user: gUser }
}

/** A batch's scores read out of the slice, and the transpose: pair gradients summed onto slice rows. */
interface RowReads {
  positives: TF.Tensor2D
  negatives: TF.Tensor2D
  sumBack(dPos: TF.Tensor2D, dNeg: TF.Tensor2D, sliceRows: number): TF.Tensor2D
}

function lookupRows(tf: typeof TF, x: ObjectiveInputs, scores: TF.Tensor2D): RowReads {
  const { positives, negatives, rowTable: table } = x
  if (x.lookup === 'one-hot') {
    const sliceRows = scores.shape[0]
    const onePos = oneHotFloat(tf, positives, sliceRows)
    const oneNeg = oneHotFloat(tf, negatives, sliceRows)
    return {
      positives: tf.matMul(onePos, scores),
      negatives: tf.matMul(oneNeg, scores),
      // Onehotᵀ × d.
      sumBack: (dPos, dNeg) =>
        tf.add(tf.matMul(onePos, dPos, true, false), tf.matMul(oneNeg, dNeg, true, false)) as TF.Tensor2D,
    }
  }
  const reads = { positives: tf.gather(scores, positives), negatives: tf.gather(scores, negatives) }
  if (x.lookup === 'scatter') {
    return {
      ...reads,
      // scatterND sums the updates of repeated rows; rows no pair touches get 0.
      sumBack: (dPos, dNeg, sliceRows) =>
        tf.scatterND(tf.reshape(tf.concat([positives, negatives]), [-1, 1]), tf.concat([dPos, dNeg]), [
          sliceRows,
          1,
        ]),
    }
  }
  if (!table) throw new ModelError('missing_tensor', "objectiveGradients: lookup 'row-table' needs rowTable")
  return {
    ...reads,
    sumBack: (dPos, dNeg, sliceRows) => {
      if (table.shape[0] !== sliceRows) {
        throw new ModelError(
          'shape_mismatch',
          `objectiveGradients: the row table has ${table.shape[0]} rows, not ${sliceRows}`,
        )
      }
      // [d⁺ | d⁻ | 0]: the table's padding points at the trailing 0.
      const pairs = tf.concat([tf.reshape(dPos, [-1]), tf.reshape(dNeg, [-1]), tf.zeros([1])])
      return tf.reshape(tf.sum(tf.gather(pairs, table), 1), [sliceRows, 1])
    },
  }
}

/**
 * `oneHot` as float32 through a cast, not through oneHot's `dtype` argument: tfjs-backend-wasm 4.22 ignores
 * that argument and writes the int32 bit pattern of 1 into the float buffer (1.4e-45), which silently
 * zeroes every gradient on WASM.
 */
function oneHotFloat(tf: typeof TF, indices: TF.Tensor1D, depth: number): TF.Tensor2D {
  return tf.cast(tf.oneHot(indices, depth), 'float32') as TF.Tensor2D
}
