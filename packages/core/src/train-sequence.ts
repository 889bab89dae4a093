import type * as TF from '@tensorflow/tfjs-core'
import { ModelError } from './errors.ts'
import {
  ADAM_EPSILON,
  createAdam,
  type LocalTrainingResult,
  noDeltas,
  type RowLookup,
  rowLookupFor,
  shuffle,
  sliceDeltas,
} from './local-training.ts'
import type { Rng } from './rng.ts'
import type { SequenceSamples } from './sequence.ts'
import { bucket, cutRows } from './slice.ts'
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
  /** How gradients are summed onto rows; default the fastest measured on the backend (`rowLookupFor`). */
  lookup?: RowLookup
}

/**
 * One client's local training of the next-item model on a slice of the shared item table: the rows of the
 * shopper's items (as contexts and as targets) and of the sampled negatives. Each target t is scored from
 * its context's pooled embeddings, q_t = Σ_j α_tj e_j (+ the private vector), as s_ti = q_t·e_i + b_i, and
 * BPR pushes s_t,target above s_t,negative. The item table is tied: the same row is an item's context
 * embedding and its target embedding (as in SASRec), so the update and the wire format stay those of the
 * item table and its biases.
 *
 * Per step, for B targets with contexts of at most L rows and K negatives each: the queries are one matMul of
 * a B × S pooling matrix (target t's row holds α_tj at its context rows, built on the CPU) with the slice
 * table, and its transpose carries their gradient back; targets and negatives are read with gathers, and the
 * gradient of every read — B positives, B·K negatives — is summed back onto slice rows in one pass
 * (`sumRows`: scatterND on CPU/WASM, a CPU-built row table on WebGL, which cannot scatter). Gathering the
 * B·L context rows instead cost 4× more on WASM (its gather kernel copies ≈ 1 µs a row), and dense B × S
 * scores over the whole slice were 3× slower on MovieLens histories.
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
  let width = 1
  for (let t = 0; t < targetCount; t++)
    width = Math.max(width, samples.contextStart[t + 1]! - samples.contextStart[t]!)
  // Shapes padded to powers of two: WebGL compiles a shader per input shape, so shapes that repeat across
  // shoppers and rounds keep its program cache warm instead of compiling ~30 programs for every new size.
  const contextWidth = bucket(width, 4)
  const perStep = Math.min(Math.max(1, Math.floor(batchSize / k)), bucket(targetCount, 8))
  const batches = Math.ceil(targetCount / perStep)
  const reads = perStep * (1 + k)
  const lookup = options.lookup ?? rowLookupFor(tf.getBackend())
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
    const adam = createAdam(tf, params, learningRate, ADAM_EPSILON, own)
    const globalEmbedding = mu > 0 ? own(tf.tensor2d(cut.embedding, [rows, dim])) : undefined
    const globalBias = mu > 0 ? own(tf.tensor2d(cut.bias, [rows, 1])) : undefined

    const order = Int32Array.from({ length: targetCount }, (_, i) => i)
    const slots = batches * perStep
    const positives = new Int32Array(slots)
    const negatives = new Int32Array(slots * k)
    const contextRows = new Int32Array(slots * contextWidth)
    const contextWeights = new Float32Array(slots * contextWidth)
    // One batch's pooling matrix [B, S] and its transpose (tfjs-backend-wasm multiplies by a transposed
    // operand 10–40× slower): built per step when an epoch has several batches, once otherwise.
    const pool = new Float32Array(perStep * rows)
    const poolT = new Float32Array(rows * perStep)
    const poolsOf = (b: number): { pool: TF.Tensor2D; poolT: TF.Tensor2D } => {
      pool.fill(0)
      poolT.fill(0)
      for (let slot = 0; slot < perStep; slot++) {
        const j = b * perStep + slot
        for (let c = 0; c < contextWidth; c++) {
          const w = contextWeights[j * contextWidth + c]!
          if (w === 0) continue
          const row = contextRows[j * contextWidth + c]!
          pool[slot * rows + row]! += w
          poolT[row * perStep + slot]! += w
        }
      }
      return { pool: tf.tensor2d(pool, [perStep, rows]), poolT: tf.tensor2d(poolT, [rows, perStep]) }
    }
    const ownBoth = (p: { pool: TF.Tensor2D; poolT: TF.Tensor2D }) => ({
      pool: own(p.pool),
      poolT: own(p.poolT),
    })
    const targetWeights = new Float32Array(slots)
    // Per batch, the slice row of each read in [positives | negatives]; -1 for padding reads.
    const readRows = new Int32Array(batches * reads)
    const totalWeights = new Float64Array(batches)
    const lastLosses: TF.Scalar[] = []
    let lastWeight = 0
    let steps = 0
    let inputs: EpochInputs | undefined
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffle(order, rng)
      const isLast = epoch === epochs - 1
      if (!inputs || batches > 1) {
        if (inputs) tf.dispose(Object.values(inputs))
        positives.fill(0)
        negatives.fill(0)
        contextRows.fill(0)
        contextWeights.fill(0)
        targetWeights.fill(0)
        readRows.fill(-1)
        totalWeights.fill(0)
        for (let j = 0; j < targetCount; j++) {
          const t = order[j]!
          const b = Math.floor(j / perStep)
          const slot = j % perStep
          const base = b * reads
          const w = samples.weights[t]!
          targetWeights[j] = w
          totalWeights[b]! += w * k
          positives[j] = at(samples.targets[t]!)
          readRows[base + slot] = positives[j]!
          for (let n = 0; n < k; n++) {
            negatives[j * k + n] = at(samples.negatives[t * k + n]!)
            readRows[base + perStep + slot * k + n] = negatives[j * k + n]!
          }
          const from = samples.contextStart[t]!
          for (let c = from; c < samples.contextStart[t + 1]!; c++) {
            const at2 = j * contextWidth + (c - from)
            contextRows[at2] = at(samples.contextRows[c]!)
            contextWeights[at2] = samples.contextWeights[c]!
          }
        }
        const tables = lookup === 'row-table' ? buildSumTables(readRows, { batches, reads, rows }) : undefined
        inputs = {
          positives: own(tf.tensor1d(positives, 'int32')),
          negatives: own(tf.tensor1d(negatives, 'int32')),
          ...(batches === 1 && { pools: ownBoth(poolsOf(0)) }),
          weights: own(tf.tensor2d(targetWeights, [slots, 1])),
          ...(tables && {
            sumTables: own(tf.tensor2d(tables.values, [batches * rows, tables.width], 'int32')),
          }),
        }
      }
      const x = inputs
      for (let b = 0; b < batches; b++) {
        const totalWeight = totalWeights[b]!
        const lossSum = tf.tidy(() => {
          const part = <T extends TF.Tensor>(t: T, width: number): T =>
            batches === 1 ? t : (tf.slice(t, b * perStep * width, perStep * width) as T)
          const part2d = (t: TF.Tensor2D, height: number): TF.Tensor2D =>
            batches === 1 ? t : (tf.slice(t, [b * height, 0], [height, -1]) as TF.Tensor2D)
          const embedding = tf.reshape(tf.slice(params, 0, rows * dim), [rows, dim]) as TF.Tensor2D
          const bias = tf.reshape(tf.slice(params, rows * dim, rows), [rows, 1]) as TF.Tensor2D
          const user = withVector
            ? (tf.reshape(tf.slice(params, sharedSize, dim), [1, dim]) as TF.Tensor2D)
            : undefined
          const g = sequenceGradients(tf, {
            embedding,
            bias,
            ...(user ? { user } : {}),
            positives: part(x.positives, 1),
            negatives: part(x.negatives, k),
            ...(x.pools ?? poolsOf(b)),
            weights: part2d(x.weights, perStep),
            totalWeight,
            lookup,
            ...(x.sumTables ? { sumTable: part2d(x.sumTables, rows) } : {}),
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

/** One epoch's targets on the backend, step after step (B targets a step). */
interface EpochInputs {
  positives: TF.Tensor1D
  negatives: TF.Tensor1D
  /** The pooling matrices of the epoch's only batch; absent when there are several (built per step). */
  pools?: { pool: TF.Tensor2D; poolT: TF.Tensor2D }
  weights: TF.Tensor2D
  sumTables?: TF.Tensor2D
}

/**
 * For each batch and slice row r, the positions among that batch's reads ([positives (B) | negatives (B·K)])
 * that read r, padded with the reads' count (pointing at a trailing zero row): summing the
 * reads' gradients onto rows is then a gather and a sum, where WebGL cannot scatter. Padding reads (-1) are
 * left out. Stacked: batch b's table is rows b·S … (b+1)·S − 1 of `[batches · S, width]`.
 */
export function buildSumTables(
  readRows: Int32Array,
  options: { batches: number; reads: number; rows: number },
): { values: Int32Array; width: number } {
  const { batches, reads, rows } = options
  const filled = new Int32Array(batches * rows)
  let most = 1
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < reads; i++) {
      const row = readRows[b * reads + i]!
      if (row >= 0) most = Math.max(most, ++filled[b * rows + row]!)
    }
  }
  const width = bucket(most, 4)
  const values = new Int32Array(batches * rows * width).fill(reads)
  filled.fill(0)
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < reads; i++) {
      const row = readRows[b * reads + i]!
      if (row < 0) continue
      const r = b * rows + row
      values[r * width + filled[r]!++] = i
    }
  }
  return { values, width }
}

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
}

/**
 * Gradients of
 *   J = Σ_t w_t Σ_k softplus(s_t,k⁻ − s_t⁺) / Σ_t K·w_t + l2/2 (‖E‖² + ‖u‖²) + mu/2 (‖E − E₀‖² + ‖b − b₀‖²)
 * with q_t = Σ_j α_tj e_j (+ u) and s_ti = q_t·e_i + b_i, written out by hand rather than by `tf.grad`
 * (tfjs-core's gradient registry does not load in plain Node ESM, and the chain rule here is a few gathers) and checked against `tf.grads` in `train-sequence.test.ts`. Call inside `tf.tidy`.
 */
export function sequenceGradients(tf: typeof TF, x: SequenceStepInputs) {
  const [rows, dim] = x.embedding.shape
  const targets = x.positives.shape[0]
  const k = x.negatives.shape[0] / targets
  const scale = x.totalWeight > 0 ? 1 / x.totalWeight : 0
  // Per-target vectors meet their K negatives and W context reads by broadcasting over a middle axis (no
  // tile: tfjs-backend-wasm's Tile kernel took most of a client round).
  const perTarget = (t: TF.Tensor) => tf.reshape(t, [targets, 1, dim])
  const pooled = tf.matMul(x.pool, x.embedding)
  const query = x.user ? tf.add(pooled, x.user) : pooled
  const ePos = tf.gather(x.embedding, x.positives)
  const eNeg = tf.reshape(tf.gather(x.embedding, x.negatives), [targets, k, dim])
  const sPos = tf.add(tf.sum(tf.mul(query, ePos), 1, true), tf.gather(x.bias, x.positives))
  const sNeg = tf.add(
    tf.sum(tf.mul(perTarget(query), eNeg), 2),
    tf.reshape(tf.gather(x.bias, x.negatives), [targets, k]),
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
  const summed = sumRows(tf, readGradients, readRows, rows, x)
  // The context rows' share: ∂J/∂E += poolᵀ · ∂J/∂q.
  let embedding: TF.Tensor = tf.add(tf.slice(summed, [0, 0], [rows, dim]), tf.matMul(x.poolT, dQuery))
  let bias: TF.Tensor = tf.slice(summed, [0, dim], [rows, 1])
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
