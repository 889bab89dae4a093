import type * as TF from '@tensorflow/tfjs-core'
import { ModelError } from './errors.ts'
import type { Rng } from './rng.ts'
import type { SequenceSamples } from './sequence.ts'
import { bucket, cutRows } from './slice.ts'
import {
  adamEpsilon,
  createAdam,
  type LocalTrainingResult,
  noDeltas,
  shuffle,
  sliceDeltas,
} from './train-local.ts'
import { firstNonFinite, type SharedWeights } from './weights.ts'

export interface SequenceTrainingOptions {
  /** The global model this round starts from; not modified. */
  weights: SharedWeights
  samples: SequenceSamples
  epochs: number
  learningRate: number
  /** (target, negative) pairs per step; targets per step = batchSize ÷ negatives per target. */
  batchSize: number
  /** Shuffles the targets every epoch. */
  rng: Rng
  /** L2 on the slice's embedding rows (and the private vector); biases are left free: they carry popularity. */
  l2?: number
  /** FedProx: mu/2 · ‖w − w_global‖² over the slice's shared parameters. Default 0. */
  mu?: number
  /** The shopper's private vector, added to every query and trained along; absent: none is kept. */
  privateVector?: Float32Array
}

/**
 * One client's local training of the next-item model on a slice of the shared item table: the rows of the
 * shopper's items (as contexts and as targets) and of the sampled negatives. Each target t is scored from
 * its context's pooled embeddings, q_t = Σ_j α_tj e_j (+ the private vector), as s_ti = q_t·e_i + b_i, and
 * BPR pushes s_t,target above s_t,negative. The item table is tied: the same row is an item's context
 * embedding and its target embedding (as in SASRec), so the update and the wire format stay those of the
 * item table and its biases.
 *
 * Per step, for B targets on an S-row slice (A: the B × S context weights, G: the gradient of the loss with
 * respect to the B × S slice scores, non-zero only at each target's positive and negatives):
 *   Q = A E (+ u),  S = Q Eᵀ + bᵀ,  ∂/∂Q = G E,  ∂/∂E = Gᵀ Q + Aᵀ (G E),  ∂/∂b = Σ_rows G
 * — matMuls, one gather out of S and one gather that builds G from the pair gradients through an index
 * table made on the CPU, so every backend (WebGL, WASM, CPU) runs the same kernels and no scatter is needed.
 * Adam starts fresh every round. Throws `ModelError` for bad options or a diverging run; leaves no tensors.
 * @example
 * const samples = buildSequenceSamples(history, { numItems: weights.numItems, negativesPerTarget: 4, rng })
 * const result = await trainSequence(tf, { weights, samples, epochs: 2, learningRate: 0.05, batchSize: 256, rng })
 */
export async function trainSequence(
  tf: typeof TF,
  options: SequenceTrainingOptions,
): Promise<LocalTrainingResult> {
  const { weights, samples, epochs, learningRate, batchSize, rng, privateVector } = options
  const { l2 = 0, mu = 0 } = options
  checkOptions(options, l2, mu)
  const { dim } = weights
  const keptVector = privateVector ? privateVector.slice() : new Float32Array(dim)
  const targetCount = samples.targets.length
  if (samples.count === 0 || targetCount === 0) {
    return { userVector: keptVector, deltas: noDeltas(dim), sampleCount: 0, loss: 0, steps: 0 }
  }
  const k = samples.negativesPerTarget
  const touched = new Set<number>()
  for (const rows of [samples.targets, samples.negatives, samples.contextRows])
    for (const r of rows) touched.add(r)
  const cut = cutRows(weights, touched)
  const rows = cut.paddedRows
  const at = (row: number) => cut.local.get(row)!
  // Targets per step, padded to a power of two so that WebGL's shader cache stays warm (as in trainLocal).
  const perStep = Math.min(Math.max(1, Math.floor(batchSize / k)), bucket(targetCount, 8))
  const batches = Math.ceil(targetCount / perStep)
  const owned: TF.Tensor[] = []
  const own = <T extends TF.Tensor>(t: T): T => {
    owned.push(t)
    return t
  }
  try {
    const sharedSize = rows * (dim + 1)
    const withVector = privateVector !== undefined
    const initial = new Float32Array(sharedSize + (withVector ? dim : 0))
    initial.set(cut.embedding, 0)
    initial.set(cut.bias, rows * dim)
    if (withVector) initial.set(privateVector, sharedSize)
    const params = own(tf.tidy(() => tf.variable(tf.tensor1d(initial))))
    const adam = createAdam(tf, params, learningRate, adamEpsilon(tf), own)
    const globalEmbedding = mu > 0 ? own(tf.tensor2d(cut.embedding, [rows, dim])) : undefined
    const globalBias = mu > 0 ? own(tf.tensor2d(cut.bias, [1, rows])) : undefined

    const order = Int32Array.from({ length: targetCount }, (_, i) => i)
    const contexts = new Float32Array(batches * perStep * rows)
    const positiveAt = new Int32Array(batches * perStep)
    const negativeAt = new Int32Array(batches * perStep * k)
    const targetWeights = new Float32Array(batches * perStep)
    const gradientAt = new Int32Array(batches * perStep * rows)
    const totalWeights = new Float64Array(batches)
    const lastLosses: TF.Scalar[] = []
    let lastWeight = 0
    let steps = 0
    let inputs: TF.Tensor[] | undefined
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffle(order, rng)
      const isLast = epoch === epochs - 1
      if (!inputs || batches > 1) {
        if (inputs) tf.dispose(inputs)
        contexts.fill(0)
        gradientAt.fill(0)
        totalWeights.fill(0)
        for (let j = 0; j < batches * perStep; j++) {
          const b = Math.floor(j / perStep)
          const slot = j % perStep // the target's row in its step's B × S score matrix
          const t = j < targetCount ? order[j]! : -1
          if (t < 0) {
            // A padding target: weight 0, its reads land on cell (slot, 0) and its gradient is 0.
            positiveAt[j] = slot * rows
            negativeAt.fill(slot * rows, j * k, (j + 1) * k)
            targetWeights[j] = 0
            continue
          }
          const w = samples.weights[t]!
          targetWeights[j] = w
          totalWeights[b]! += w * k
          for (let c = samples.contextStart[t]!; c < samples.contextStart[t + 1]!; c++) {
            contexts[j * rows + at(samples.contextRows[c]!)]! += samples.contextWeights[c]!
          }
          const positive = at(samples.targets[t]!)
          positiveAt[j] = slot * rows + positive
          // Index into [0 | ∂pos (B) | ∂neg (B·K)]: cell (slot, row) of G reads its pair's gradient.
          gradientAt[j * rows + positive] = 1 + slot
          for (let n = 0; n < k; n++) {
            const negative = at(samples.negatives[t * k + n]!)
            negativeAt[j * k + n] = slot * rows + negative
            gradientAt[j * rows + negative] = 1 + perStep + slot * k + n
          }
        }
        inputs = [
          own(tf.tensor2d(contexts, [batches * perStep, rows])),
          own(tf.tensor1d(positiveAt, 'int32')),
          own(tf.tensor1d(negativeAt, 'int32')),
          own(tf.tensor2d(targetWeights, [batches * perStep, 1])),
          own(tf.tensor1d(gradientAt, 'int32')),
        ]
      }
      const [allContexts, allPositives, allNegatives, allWeights, allGradientAt] = inputs as [
        TF.Tensor2D,
        TF.Tensor1D,
        TF.Tensor1D,
        TF.Tensor2D,
        TF.Tensor1D,
      ]
      for (let b = 0; b < batches; b++) {
        const totalWeight = totalWeights[b]!
        const lossSum = tf.tidy(() => {
          const rowsOf = <T extends TF.Tensor>(t: T, width: number): T =>
            batches === 1 ? t : (tf.slice(t, b * perStep * width, perStep * width) as T)
          const embedding = tf.reshape(tf.slice(params, 0, rows * dim), [rows, dim]) as TF.Tensor2D
          const bias = tf.reshape(tf.slice(params, rows * dim, rows), [1, rows]) as TF.Tensor2D
          const user = withVector
            ? (tf.reshape(tf.slice(params, sharedSize, dim), [1, dim]) as TF.Tensor2D)
            : undefined
          const g = sequenceGradients(tf, {
            embedding,
            bias,
            ...(user ? { user } : {}),
            contexts:
              batches === 1
                ? allContexts
                : (tf.slice(allContexts, [b * perStep, 0], [perStep, rows]) as TF.Tensor2D),
            positiveAt: rowsOf(allPositives, 1),
            negativeAt: rowsOf(allNegatives, k),
            weights:
              batches === 1
                ? allWeights
                : (tf.slice(allWeights, [b * perStep, 0], [perStep, 1]) as TF.Tensor2D),
            gradientAt: rowsOf(allGradientAt, rows),
            totalWeight,
            l2,
            mu,
            ...(globalEmbedding && globalBias ? { globalEmbedding, globalBias } : {}),
          })
          const parts = [tf.reshape(g.embedding, [-1]), tf.reshape(g.bias, [-1])]
          if (g.user) parts.push(tf.reshape(g.user, [-1]))
          adam.step(tf.concat(parts))
          return g.weightedLossSum
        })
        steps++
        if (isLast) {
          lastLosses.push(own(lossSum))
          lastWeight += totalWeight
        } else {
          lossSum.dispose()
        }
      }
    }
    const lossTotal = own(tf.addN(lastLosses))
    const [p, l] = await Promise.all([params.data(), lossTotal.data()])
    const values = p as Float32Array
    const result: LocalTrainingResult = {
      userVector: withVector ? values.slice(sharedSize, sharedSize + dim) : keptVector,
      deltas: sliceDeltas(cut, dim, values.subarray(0, rows * dim), values.subarray(rows * dim, sharedSize)),
      sampleCount: samples.count,
      loss: lastWeight > 0 ? l[0]! / lastWeight : 0,
      steps,
    }
    checkFinite(result)
    return result
  } finally {
    tf.dispose(owned)
  }
}

/** One step's inputs: B targets (padded) on an S-row slice; see `trainSequence` for the maths. */
export interface SequenceStepInputs {
  /** Slice embedding `[S, d]` and bias `[1, S]`. */
  embedding: TF.Tensor2D
  bias: TF.Tensor2D
  /** The private vector `[1, d]`, when one is trained. */
  user?: TF.Tensor2D
  /** Context weights `[B, S]`: row t holds target t's α over the slice rows. */
  contexts: TF.Tensor2D
  /** int32 `[B]`: target t's positive as the flat index t·S + row into the B × S scores. */
  positiveAt: TF.Tensor1D
  /** int32 `[B·K]`: target t's K negatives, flat indices as above. */
  negativeAt: TF.Tensor1D
  /** Target weights `[B, 1]`; 0 for padding targets. */
  weights: TF.Tensor2D
  /**
   * int32 `[B·S]`: for cell (t, row) of the score gradient, its position in [0 | ∂s⁺ (B) | ∂s⁻ (B·K)], 0
   * where the cell is neither a positive nor a negative of target t.
   */
  gradientAt: TF.Tensor1D
  /** Σ over the batch's pairs of their target's weight (known on the CPU: no readback). */
  totalWeight: number
  l2: number
  mu: number
  globalEmbedding?: TF.Tensor2D
  globalBias?: TF.Tensor2D
}

/**
 * Gradients of
 *   J = Σ_t w_t Σ_k softplus(s_t,k⁻ − s_t⁺) / Σ_t K·w_t + l2/2 (‖E‖² + ‖u‖²) + mu/2 (‖E − E₀‖² + ‖b − b₀‖²)
 * with q_t = Σ_j α_tj e_j (+ u) and s_ti = q_t·e_i + b_i, written out by hand (as `objectiveGradients`, and
 * for the same reasons) and checked against `tf.grads` in `train-sequence.test.ts`. Call inside `tf.tidy`.
 */
export function sequenceGradients(tf: typeof TF, x: SequenceStepInputs) {
  const [targets, rows] = x.contexts.shape
  const k = x.negativeAt.shape[0] / targets
  const scale = x.totalWeight > 0 ? 1 / x.totalWeight : 0
  const pooled = tf.matMul(x.contexts, x.embedding)
  const query = x.user ? tf.add(pooled, x.user) : pooled
  const scores = tf.reshape(tf.add(tf.matMul(query, x.embedding, false, true), x.bias), [-1])
  const sPos = tf.reshape(tf.gather(scores, x.positiveAt), [targets, 1])
  const sNeg = tf.reshape(tf.gather(scores, x.negativeAt), [targets, k])
  // ℓ = softplus(s⁻ − s⁺) per pair; ∂ℓ/∂s⁻ = σ(s⁻ − s⁺) = −∂ℓ/∂s⁺.
  const margin = tf.sub(sNeg, sPos)
  const dNeg = tf.mul(tf.mul(tf.sigmoid(margin), x.weights), scale)
  const dPos = tf.neg(tf.sum(dNeg, 1))
  const pairGradients = tf.concat([tf.zeros([1]), dPos, tf.reshape(dNeg, [-1])])
  const g = tf.reshape(tf.gather(pairGradients, x.gradientAt), [targets, rows])
  const dQuery = tf.matMul(g, x.embedding)
  let embedding = tf.add(tf.matMul(g, query, true, false), tf.matMul(x.contexts, dQuery, true, false))
  let bias = tf.sum(g, 0, true)
  if (x.l2 > 0) embedding = tf.add(embedding, tf.mul(x.embedding, x.l2))
  if (x.mu > 0) {
    if (!x.globalEmbedding || !x.globalBias)
      throw new Error('sequenceGradients: mu > 0 needs the global slice')
    embedding = tf.add(embedding, tf.mul(tf.sub(x.embedding, x.globalEmbedding), x.mu))
    bias = tf.add(bias, tf.mul(tf.sub(x.bias, x.globalBias), x.mu))
  }
  let user: TF.Tensor | undefined
  if (x.user) {
    user = tf.sum(dQuery, 0, true)
    if (x.l2 > 0) user = tf.add(user, tf.mul(x.user, x.l2))
  }
  return {
    weightedLossSum: tf.sum(tf.mul(tf.softplus(margin), x.weights)) as TF.Scalar,
    embedding: embedding as TF.Tensor2D,
    bias: bias as TF.Tensor2D,
    user: user as TF.Tensor2D | undefined,
  }
}

function checkOptions(o: SequenceTrainingOptions, l2: number, mu: number): void {
  const fail = (what: string, value: unknown) => {
    throw new ModelError('bad_option', `trainSequence: ${what}, got ${String(value)}`)
  }
  if (!Number.isInteger(o.epochs) || o.epochs < 1) fail('epochs must be an integer >= 1', o.epochs)
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
    fail('batchSize must be an integer >= 1', o.batchSize)
  if (!(Number.isFinite(o.learningRate) && o.learningRate > 0))
    fail('learningRate must be > 0', o.learningRate)
  if (!(Number.isFinite(l2) && l2 >= 0)) fail('l2 must be finite and >= 0', l2)
  if (!(Number.isFinite(mu) && mu >= 0)) fail('mu must be finite and >= 0', mu)
  if (o.privateVector && o.privateVector.length !== o.weights.dim)
    fail(`privateVector must have dim = ${o.weights.dim} values`, o.privateVector.length)
  if (o.privateVector && firstNonFinite(o.privateVector) >= 0) fail('privateVector must be finite', 'NaN')
  const { samples } = o
  if (samples.negatives.length !== samples.targets.length * samples.negativesPerTarget)
    fail('samples need negativesPerTarget negatives per target', samples.negatives.length)
  for (const w of samples.weights) if (!(Number.isFinite(w) && w >= 0)) fail('target weights must be >= 0', w)
}

function checkFinite(result: LocalTrainingResult): void {
  if (!Number.isFinite(result.loss)) {
    throw new ModelError(
      'non_finite',
      `local training diverged: loss is ${result.loss}; try a smaller learningRate`,
    )
  }
  for (const [name, values] of [
    ['private vector', result.userVector],
    ...result.deltas.map((d) => [d.name, d.values] as const),
  ] as const) {
    const bad = firstNonFinite(values)
    if (bad >= 0)
      throw new ModelError('non_finite', `local training diverged: ${name}[${bad}] is ${values[bad]}`)
  }
}
