import { ITEM_BIAS, ITEM_EMBEDDING, type TensorDelta } from '@fedrec/protocol'
import type * as TF from '@tensorflow/tfjs-core'
import { ModelError } from './errors.ts'
import { type LossKind, objectiveGradients, type RowLookup, rowLookupFor } from './objective.ts'
import type { Rng } from './rng.ts'
import { buildRowTables } from './row-table.ts'
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
  /**
   * How rows are looked up and their gradients summed (see `RowLookup`): the same maths up to float rounding.
   * Default: the fastest measured on the active backend (`rowLookupFor`).
   */
  lookup?: RowLookup
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
  const { mu = 0, loss = 'bpr', l2 = 0, trainShared = true, lookup = rowLookupFor(tf.getBackend()) } = options
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
  const batches = Math.ceil(count / batch)
  // Everything made here is disposed in `finally`, also when a backend fails half-way (a lost WebGL context).
  const owned: TF.Tensor[] = []
  const own = <T extends TF.Tensor>(t: T): T => {
    owned.push(t)
    return t
  }

  try {
    const rows = slice.paddedRows
    // The trained parameters live in one flat variable [E | b | u] (or [u] alone), so that Adam runs once per
    // step instead of once per tensor: on WebGL each op is a shader launch, and a launch, not arithmetic, is
    // what a step of this size costs (docs/benchmarks.md). Slices of it are views, not copies.
    const sharedSize = trainShared ? rows * (dim + 1) : 0
    const initial = new Float32Array(sharedSize + dim)
    if (trainShared) {
      initial.set(slice.embedding, 0)
      initial.set(slice.bias, rows * dim)
    }
    initial.set(userVector, sharedSize)
    const params = own(tf.tidy(() => tf.variable(tf.tensor1d(initial))))
    const fixedEmbedding = trainShared ? undefined : own(tf.tensor2d(slice.embedding, [rows, dim]))
    const fixedBias = trainShared ? undefined : own(tf.tensor2d(slice.bias, [rows, 1]))
    const adam = createAdam(tf, params, learningRate, adamEpsilon(tf), own)
    // The proximal term needs the round's starting point; copies, since the variables move.
    const globalEmbedding = mu > 0 ? own(tf.tensor2d(slice.embedding, [rows, dim])) : undefined
    const globalBias = mu > 0 ? own(tf.tensor2d(slice.bias, [rows, 1])) : undefined
    const lastEpochLosses: TF.Scalar[] = []
    const order = Int32Array.from({ length: count }, (_, i) => i)
    // One epoch's pairs, batch after batch: uploaded once per epoch (three uploads, not three per step), and
    // once per round when one batch holds them all (their order then changes nothing but summation order).
    const positives = new Int32Array(batches * batch)
    const negatives = new Int32Array(batches * batch)
    const batchWeights = new Float32Array(batches * batch)
    const totalWeights = new Float64Array(batches)
    let epochInputs: EpochInputs | undefined
    let steps = 0
    let lastEpochWeight = 0
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffle(order, rng)
      const isLast = epoch === epochs - 1
      if (!epochInputs || batches > 1) {
        if (epochInputs) tf.dispose(Object.values(epochInputs))
        totalWeights.fill(0)
        for (let j = 0; j < batches * batch; j++) {
          const i = j < count ? order[j]! : -1
          positives[j] = i >= 0 ? slice.positives[i]! : 0
          negatives[j] = i >= 0 ? slice.negatives[i]! : 0
          batchWeights[j] = i >= 0 ? pairWeights[i]! : 0
          totalWeights[Math.floor(j / batch)]! += batchWeights[j]!
        }
        const tables =
          lookup === 'row-table'
            ? buildRowTables(positives, negatives, { batches, batch, rows, count })
            : undefined
        epochInputs = {
          positives: own(tf.tensor1d(positives, 'int32')),
          negatives: own(tf.tensor1d(negatives, 'int32')),
          weights: own(tf.tensor2d(batchWeights, [batches * batch, 1])),
          ...(tables && {
            rowTables: own(tf.tensor2d(tables.values, [batches * rows, tables.width], 'int32')),
          }),
        }
      }
      const inputs = epochInputs
      for (let b = 0; b < batches; b++) {
        const totalWeight = totalWeights[b]!
        const weightedLossSum = tf.tidy(() => {
          const part = <T extends TF.Tensor>(t: T): T =>
            batches === 1 ? t : (tf.slice(t, b * batch, batch) as T)
          const embedding = trainShared
            ? (tf.reshape(tf.slice(params, 0, rows * dim), [rows, dim]) as TF.Tensor2D)
            : fixedEmbedding!
          const bias = trainShared
            ? (tf.reshape(tf.slice(params, rows * dim, rows), [rows, 1]) as TF.Tensor2D)
            : fixedBias!
          const user = tf.reshape(tf.slice(params, sharedSize, dim), [1, dim]) as TF.Tensor2D
          const rowTables = inputs.rowTables
          const g = objectiveGradients(tf, {
            embedding,
            bias,
            user,
            positives: part(inputs.positives),
            negatives: part(inputs.negatives),
            weights: part(inputs.weights),
            totalWeight,
            lookup,
            ...(rowTables && {
              rowTable: batches === 1 ? rowTables : tf.slice(rowTables, [b * rows, 0], [rows, -1]),
            }),
            sharedGradients: trainShared,
            loss,
            l2,
            mu,
            globalEmbedding,
            globalBias,
          })
          adam.step(
            trainShared
              ? tf.concat([
                  tf.reshape(g.embedding!, [-1]),
                  tf.reshape(g.bias!, [-1]),
                  tf.reshape(g.user, [-1]),
                ])
              : tf.reshape(g.user, [-1]),
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
    const [p, l] = await Promise.all([params.data(), lossTotal.data()])
    const values = p as Float32Array
    const meanLoss = lastEpochWeight > 0 ? l[0]! / lastEpochWeight : 0
    const result = {
      userVector: values.slice(sharedSize, sharedSize + dim),
      deltas: trainShared
        ? sliceDeltas(slice, dim, values.subarray(0, rows * dim), values.subarray(rows * dim, sharedSize))
        : noDeltas(dim),
      sampleCount: count,
      loss: meanLoss,
      steps,
    }
    checkFinite(result)
    return result
  } finally {
    tf.dispose(owned)
  }
}

/** One epoch's pairs on the backend, batch after batch; `rowTables` for the `row-table` lookup. */
interface EpochInputs {
  positives: TF.Tensor1D
  negatives: TF.Tensor1D
  weights: TF.Tensor2D
  rowTables?: TF.Tensor2D
}

/**
 * Adam (Kingma & Ba 2015) on one flat variable, with the bias corrections folded into the step size and ε as
 * in the paper's "efficient" form: lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε·√(1−β₂ᵗ)), which is exactly tfjs's
 * lr · m̂ / (√v̂ + ε). Twelve ops a step where tfjs's optimizer, per variable, needs fourteen plus scalars.
 * Its moments start at zero every round, as before: they are not part of the model. Call `step` in a tidy.
 */
export function createAdam(
  tf: typeof TF,
  params: TF.Variable,
  learningRate: number,
  epsilon: number,
  own: <T extends TF.Tensor>(t: T) => T,
) {
  const beta1 = 0.9
  const beta2 = 0.999
  const m = own(tf.tidy(() => tf.variable(tf.zerosLike(params), false)))
  const v = own(tf.tidy(() => tf.variable(tf.zerosLike(params), false)))
  const b1 = own(tf.scalar(beta1))
  const b1c = own(tf.scalar(1 - beta1))
  const b2 = own(tf.scalar(beta2))
  const b2c = own(tf.scalar(1 - beta2))
  let t = 0
  return {
    step(gradient: TF.Tensor): void {
      t++
      const correction = Math.sqrt(1 - beta2 ** t)
      const stepSize = (learningRate * correction) / (1 - beta1 ** t)
      const newM = tf.add(tf.mul(m, b1), tf.mul(gradient, b1c))
      const newV = tf.add(tf.mul(v, b2), tf.mul(tf.square(gradient), b2c))
      m.assign(newM)
      v.assign(newV)
      params.assign(
        tf.sub(params, tf.mul(tf.div(newM, tf.add(tf.sqrt(newV), epsilon * correction)), stepSize)),
      )
    },
  }
}

/**
 * Adam's epsilon, explicit rather than tfjs's per-backend default: tfjs-backend-webgl 4.22 reports 16-bit
 * precision exactly when it renders to float32 textures (its check is inverted), so Adam defaulted to 1e-4
 * on WebGL and 1e-7 elsewhere, and the same shopper's update differed by up to 0.05 between backends.
 * Only a GPU that really renders at half precision keeps 1e-4, where 1e-7 would flush to 0 and divide 0/0.
 */
export function adamEpsilon(tf: typeof TF): number {
  const halfFloat = tf.getBackend() === 'webgl' && !tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')
  return halfFloat ? 1e-4 : 1e-7
}

export function sliceDeltas(
  slice: Pick<RowSlice, 'rows' | 'embedding' | 'bias'>,
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

export function noDeltas(dim: number): TensorDelta[] {
  return [
    { name: ITEM_EMBEDDING, cols: dim, rowIds: new Uint32Array(0), values: new Float32Array(0) },
    { name: ITEM_BIAS, cols: 1, rowIds: new Uint32Array(0), values: new Float32Array(0) },
  ]
}

export function shuffle(order: Int32Array, rng: Rng): void {
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
