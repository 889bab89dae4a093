import { ITEM_BIAS, ITEM_EMBEDDING, type TensorDelta } from '@fedrec/protocol'
import type * as TF from '@tensorflow/tfjs-core'
import { ModelError } from './errors.ts'
import { type LossKind, objectiveGradients } from './objective.ts'
import type { Rng } from './rng.ts'
import type { TrainingSamples } from './samples.ts'
import { bucket, cutSlice, type RowSlice } from './slice.ts'
import { firstNonFinite, type SharedWeights } from './weights.ts'

export interface LocalTrainingOptions {
  /** The global model this round starts from; not modified. */
  weights: SharedWeights
  /** The shopper's private vector; not modified (the new one is returned). */
  userVector: Float32Array
  samples: TrainingSamples
  epochs: number
  learningRate: number
  batchSize: number
  /** FedProx: adds mu/2 · ‖w − w_global‖² over the slice's shared parameters when > 0. Default 0 (FedAvg). */
  mu?: number
  /** Default 'bpr'. */
  loss?: LossKind
  /** L2 on the user vector and the slice's embedding rows. Default 0. */
  l2?: number
  /** Shuffles the pairs every epoch. */
  rng: Rng
  /**
   * false: train only the user vector, against the shared rows held fixed (no deltas are returned). Used
   * after a round's training to fit the private vector to the *global* model the device recommends with, as
   * in Federated Reconstruction (Singhal et al. 2021): the shared rows it trained locally are only uploaded,
   * and until the aggregate comes back the global ones are what scoring sees. Default true.
   */
  trainShared?: boolean
}

export interface LocalTrainingResult {
  /** The shopper's new private vector (never uploaded). */
  userVector: Float32Array
  /** `[ITEM_EMBEDDING, ITEM_BIAS]` deltas (w_local − w_global) of exactly the touched rows, ascending. */
  deltas: TensorDelta[]
  /** n_k, the number of training pairs. */
  sampleCount: number
  /** Weighted mean data loss (without the L2 and proximal terms) over the last epoch. */
  loss: number
  steps: number
}

/**
 * One client's local training for one round, on a slice of the shared rows: only the rows its samples
 * touch are uploaded to the backend, trained with Adam, and returned as sparse deltas. Adam starts fresh
 * every round (its moments are not part of the model and would otherwise have to be stored per shopper).
 * Throws a `ModelError` for bad options or when training diverges (a NaN never leaves as a delta).
 * Leaves no tensors behind.
 * @example
 * const samples = buildSamples(events, { numItems: weights.numItems, negativesPerPositive: 4, rng })
 * const result = await trainLocal(tf, { weights, userVector, samples, epochs: 2, learningRate: 0.01, batchSize: 256, rng })
 * upload({ sampleCount: result.sampleCount, tensors: result.deltas }); saveLocally(result.userVector)
 */
export async function trainLocal(tf: typeof TF, options: LocalTrainingOptions): Promise<LocalTrainingResult> {
  const { weights, userVector, samples, epochs, learningRate, batchSize, rng } = options
  const { mu = 0, loss = 'bpr', l2 = 0, trainShared = true } = options
  checkOptions(options, mu, l2)
  const { dim } = weights
  if (samples.count === 0) {
    return { userVector: userVector.slice(), deltas: noDeltas(dim), sampleCount: 0, loss: 0, steps: 0 }
  }

  const slice = cutSlice(weights, samples)
  const count = samples.count
  const pairWeights = samples.weights.subarray(0, count)
  // Batches are padded to a fixed size with weight-0 pairs, for the same shader-cache reason as the slice.
  const batch = Math.min(batchSize, bucket(count, 8))
  const optimizer = tf.train.adam(learningRate, 0.9, 0.999, adamEpsilon(tf))
  // Everything made here is disposed in `finally`, also when a backend fails half-way (a lost WebGL context).
  const owned: TF.Tensor[] = []
  const own = <T extends TF.Tensor>(t: T): T => {
    owned.push(t)
    return t
  }

  try {
    const rows = slice.paddedRows
    const embedding = own(tf.tidy(() => tf.variable(tf.tensor2d(slice.embedding, [rows, dim]))))
    const bias = own(tf.tidy(() => tf.variable(tf.tensor2d(slice.bias, [rows, 1]))))
    const user = own(tf.tidy(() => tf.variable(tf.tensor2d(userVector, [1, dim]))))
    // The proximal term needs the round's starting point; copies, since the variables move.
    const globalEmbedding = mu > 0 ? own(tf.tensor2d(slice.embedding, [rows, dim])) : undefined
    const globalBias = mu > 0 ? own(tf.tensor2d(slice.bias, [rows, 1])) : undefined
    const lastEpochLosses: TF.Scalar[] = []
    const order = Int32Array.from({ length: count }, (_, i) => i)
    const positives = new Int32Array(batch)
    const negatives = new Int32Array(batch)
    const batchWeights = new Float32Array(batch)
    let steps = 0
    let lastEpochWeight = 0
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffle(order, rng)
      const isLast = epoch === epochs - 1
      for (let start = 0; start < count; start += batch) {
        let totalWeight = 0
        for (let j = 0; j < batch; j++) {
          const i = start + j < count ? order[start + j]! : -1
          positives[j] = i >= 0 ? slice.positives[i]! : 0
          negatives[j] = i >= 0 ? slice.negatives[i]! : 0
          batchWeights[j] = i >= 0 ? pairWeights[i]! : 0
          totalWeight += batchWeights[j]!
        }
        const weightedLossSum = tf.tidy(() => {
          const g = objectiveGradients(tf, {
            embedding,
            bias,
            user,
            positives: tf.tensor1d(positives, 'int32'),
            negatives: tf.tensor1d(negatives, 'int32'),
            weights: tf.tensor2d(batchWeights, [batch, 1]),
            totalWeight,
            loss,
            l2,
            mu,
            globalEmbedding,
            globalBias,
          })
          optimizer.applyGradients(
            trainShared
              ? [
                  { name: embedding.name, tensor: g.embedding },
                  { name: bias.name, tensor: g.bias },
                  { name: user.name, tensor: g.user },
                ]
              : [{ name: user.name, tensor: g.user }],
          )
          return g.weightedLossSum
        })
        steps++
        // Losses stay on the backend until the end: a readback per step would stall WebGL's pipeline.
        if (isLast) {
          lastEpochLosses.push(own(weightedLossSum))
          lastEpochWeight += totalWeight
        } else {
          weightedLossSum.dispose()
        }
      }
    }

    const lossTotal = own(tf.addN(lastEpochLosses))
    const [e, b, u, l] = await Promise.all([embedding.data(), bias.data(), user.data(), lossTotal.data()])
    const meanLoss = lastEpochWeight > 0 ? l[0]! / lastEpochWeight : 0
    const result = {
      userVector: Float32Array.from(u),
      deltas: trainShared ? sliceDeltas(slice, dim, e as Float32Array, b as Float32Array) : noDeltas(dim),
      sampleCount: count,
      loss: meanLoss,
      steps,
    }
    checkFinite(result)
    return result
  } finally {
    tf.dispose(owned)
    optimizer.dispose()
  }
}

/**
 * Adam's epsilon, explicit rather than tfjs's per-backend default: tfjs-backend-webgl 4.22 reports 16-bit
 * precision exactly when it renders to float32 textures (its check is inverted), so Adam defaulted to 1e-4
 * on WebGL and 1e-7 elsewhere, and the same shopper's update differed by up to 0.05 between backends.
 * Only a GPU that really renders at half precision keeps 1e-4, where 1e-7 would flush to 0 and divide 0/0.
 */
function adamEpsilon(tf: typeof TF): number {
  const halfFloat = tf.getBackend() === 'webgl' && !tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')
  return halfFloat ? 1e-4 : 1e-7
}

function sliceDeltas(
  slice: RowSlice,
  dim: number,
  embedding: Float32Array,
  bias: Float32Array,
): TensorDelta[] {
  const s = slice.rows.length
  const embeddingDelta = new Float32Array(s * dim)
  for (let k = 0; k < s * dim; k++) embeddingDelta[k] = embedding[k]! - slice.embedding[k]!
  const biasDelta = new Float32Array(s)
  for (let k = 0; k < s; k++) biasDelta[k] = bias[k]! - slice.bias[k]!
  return [
    { name: ITEM_EMBEDDING, cols: dim, rowIds: slice.rows.slice(), values: embeddingDelta },
    { name: ITEM_BIAS, cols: 1, rowIds: slice.rows.slice(), values: biasDelta },
  ]
}

function noDeltas(dim: number): TensorDelta[] {
  return [
    { name: ITEM_EMBEDDING, cols: dim, rowIds: new Uint32Array(0), values: new Float32Array(0) },
    { name: ITEM_BIAS, cols: 1, rowIds: new Uint32Array(0), values: new Float32Array(0) },
  ]
}

function shuffle(order: Int32Array, rng: Rng): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const tmp = order[i]!
    order[i] = order[j]!
    order[j] = tmp
  }
}

function checkFinite(result: LocalTrainingResult): void {
  if (!Number.isFinite(result.loss)) {
    throw new ModelError(
      'non_finite',
      `local training diverged: loss is ${result.loss}; try a smaller learningRate`,
    )
  }
  for (const [name, values] of [
    ['user vector', result.userVector],
    ...result.deltas.map((d) => [d.name, d.values] as const),
  ] as const) {
    const bad = firstNonFinite(values)
    if (bad >= 0) {
      throw new ModelError('non_finite', `local training diverged: ${name}[${bad}] is ${values[bad]}`)
    }
  }
}

function checkOptions(o: LocalTrainingOptions, mu: number, l2: number): void {
  const fail = (what: string, value: unknown) => {
    throw new ModelError('bad_option', `trainLocal: ${what}, got ${String(value)}`)
  }
  if (!Number.isInteger(o.epochs) || o.epochs < 1) fail('epochs must be an integer >= 1', o.epochs)
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
    fail('batchSize must be an integer >= 1', o.batchSize)
  if (!(Number.isFinite(o.learningRate) && o.learningRate > 0))
    fail('learningRate must be > 0', o.learningRate)
  if (!(Number.isFinite(mu) && mu >= 0)) fail('mu must be finite and >= 0', mu)
  if (!(Number.isFinite(l2) && l2 >= 0)) fail('l2 must be finite and >= 0', l2)
  if (o.userVector.length !== o.weights.dim)
    fail(`userVector must have dim = ${o.weights.dim} values`, o.userVector.length)
  if (firstNonFinite(o.userVector) >= 0) fail('userVector must be finite', Array.from(o.userVector))
  const { count, weights } = o.samples
  if (!Number.isInteger(count) || count < 0) fail('samples.count must be an integer >= 0', count)
  for (let i = 0; i < Math.min(count, weights.length); i++) {
    const w = weights[i]!
    if (!(Number.isFinite(w) && w >= 0)) fail(`sample weight ${i} must be finite and >= 0`, w)
  }
}
