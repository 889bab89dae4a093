import type * as TF from '@tensorflow/tfjs-core'

/** Which pairwise loss to train with. */
export type LossKind = 'bpr' | 'logistic'

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
  embedding: TF.Tensor2D
  bias: TF.Tensor2D
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
 * Lookups are one-hot × matMul, never `gather`: the gather gradient is slow on CPU and missing on WASM.
 * Must be called inside `tf.tidy`. `objective.test.ts` checks it against `tf.grads` of J written with plain ops.
 */
export function objectiveGradients(tf: typeof TF, x: ObjectiveInputs): ObjectiveGradients {
  const sliceRows = x.embedding.shape[0]
  const onePos = oneHotFloat(tf, x.positives, sliceRows)
  const oneNeg = oneHotFloat(tf, x.negatives, sliceRows)
  const scores = tf.add(tf.matMul(x.embedding, x.user, false, true), x.bias) as TF.Tensor2D
  const sPos = tf.matMul(onePos, scores)
  const sNeg = tf.matMul(oneNeg, scores)
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
  // Scatter the per-pair score gradients back onto slice rows: Onehotᵀ × d, the transpose of the lookup.
  const dScores = tf.add(
    tf.matMul(onePos, dPos, true, false),
    tf.matMul(oneNeg, dNeg, true, false),
  ) as TF.Tensor2D

  let gEmbedding = tf.matMul(dScores, x.user) as TF.Tensor2D // [S,1]×[1,d]
  let gBias: TF.Tensor2D = dScores
  let gUser = tf.matMul(dScores, x.embedding, true, false) as TF.Tensor2D // [1,S]×[S,d]
  if (x.l2 > 0) {
    gEmbedding = tf.add(gEmbedding, tf.mul(x.embedding, x.l2))
    gUser = tf.add(gUser, tf.mul(x.user, x.l2))
  }
  if (x.mu > 0) {
    if (!x.globalEmbedding || !x.globalBias)
      throw new Error('objectiveGradients: mu > 0 needs the global slice')
    gEmbedding = tf.add(gEmbedding, tf.mul(tf.sub(x.embedding, x.globalEmbedding), x.mu))
    gBias = tf.add(gBias, tf.mul(tf.sub(x.bias, x.globalBias), x.mu))
  }
  return {
    weightedLossSum: tf.sum(tf.mul(perPair, x.weights)),
    embedding: gEmbedding,
    bias: gBias,
    user: gUser,
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
