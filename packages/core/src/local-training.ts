// Support code of the client's training loop (train-sequence.ts), kept apart from the objective it optimises.
import {
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  type TensorDelta,
} from '@fedrec/protocol'
import type * as TF from '@tensorflow/tfjs-core'
import type { Rng } from './rng.ts'
import type { RowCut, TableCut } from './slice.ts'

// The parts of a client's local training that do not depend on the model's objective: Adam on one flat
// variable, the sparse deltas of a slice, the row-lookup choice per backend.

/**
 * How a step sums its reads' gradients back onto slice rows (the transpose of its gathers). Same maths,
 * different kernels; `rowLookupFor` picks the fastest measured on each backend (docs/benchmarks.md):
 * - `one-hot`: a reads × S one-hot matrix and a matMul through it, O(reads·S) a step. Needs nothing but
 *   matMul and oneHot, so it runs on any backend.
 * - `scatter`: `scatterND` (which sums duplicate rows); O(reads) on CPU and WASM. On WebGL scatterND is a
 *   shader that loops over every read for every row, O(reads·S) again.
 * - `row-table`: each slice row gathers the read gradients that land on it through a table built on the CPU
 *   (`buildSumTables`) and sums them: O(S·W) for W reads at most per row, where WebGL cannot scatter.
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

/** What one client round uploads and keeps. */
export interface LocalTrainingResult {
  /** The shopper's private vector after the round (never uploaded; zero when none is kept). */
  userVector: Float32Array
  /**
   * `[ITEM_EMBEDDING, ITEM_BIAS]` deltas (w_local − w_global) of exactly the touched rows, ascending; then
   * `[FEATURE_EMBEDDING, FEATURE_BIAS]` of the touched items' feature rows when the model has item features.
   */
  deltas: TensorDelta[]
  /** n_k, the number of (target, negative) pairs. */
  sampleCount: number
  /** Weighted mean data loss (without the L2 and proximal terms) over the last epoch. */
  loss: number
  steps: number
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
 * Adam's ε, the same on every backend. It is also a regulariser here: a round is only a few Adam steps from a
 * fresh state, where a coordinate moves by about lr·g/(|g| + ε). With tfjs's default (1e-7; 1e-4 where
 * tfjs-backend-webgl 4.22 wrongly reports half precision) every touched row moved a full lr per coordinate,
 * however weak its gradient: rows drawn only as negatives drifted as far as trained ones, and in a small shop
 * they outscored a shopper's own category. With 1e-3 a weak gradient moves its row in proportion (six
 * shoppers, 240 items: worst shopper's top-10 share of their category 0.1 → 0.7), and on REES46 HR@10 went
 * 0.258 → 0.261, Recall@20 0.122 → 0.129 (docs/simulator.md). It is above what half-precision floats flush to
 * zero, so the same shopper's update agrees across backends.
 */
export const ADAM_EPSILON = 1e-3

/** A table's trained slice values: embedding `[S, d]` and bias `[S]`, padded like the cut. */
interface TableValues {
  embedding: Float32Array
  bias: Float32Array
}

/**
 * The upload of a round: w_local − w_global of exactly the cut's rows, `[ITEM_EMBEDDING, ITEM_BIAS]` and, when
 * the slice has feature rows, `[FEATURE_EMBEDDING, FEATURE_BIAS]` after them.
 * @example const deltas = sliceDeltas(cut, 32, { embedding, bias })
 */
export function sliceDeltas(
  cut: RowCut,
  dim: number,
  trained: TableValues & { features?: TableValues },
): TensorDelta[] {
  const deltas = tableDeltas(cut, dim, trained, ITEM_EMBEDDING, ITEM_BIAS)
  if (cut.features && trained.features)
    deltas.push(...tableDeltas(cut.features, dim, trained.features, FEATURE_EMBEDDING, FEATURE_BIAS))
  return deltas
}

function tableDeltas(
  cut: TableCut,
  dim: number,
  trained: TableValues,
  embeddingName: string,
  biasName: string,
): TensorDelta[] {
  const s = cut.rows.length
  const embeddingDelta = new Float32Array(s * dim)
  for (let k = 0; k < s * dim; k++) embeddingDelta[k] = trained.embedding[k]! - cut.embedding[k]!
  const biasDelta = new Float32Array(s)
  for (let k = 0; k < s; k++) biasDelta[k] = trained.bias[k]! - cut.bias[k]!
  return [
    { name: embeddingName, cols: dim, rowIds: cut.rows.slice(), values: embeddingDelta },
    { name: biasName, cols: 1, rowIds: cut.rows.slice(), values: biasDelta },
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
