// A client round's trained values as one flat variable: slice embedding | slice bias | private vector.
import type * as TF from '@tensorflow/tfjs-core'
import { type LocalTrainingResult, sliceDeltas } from './local-training.ts'
import type { RowCut } from './slice.ts'

/** The flat variable and where its parts lie. */
export interface SequenceParams {
  params: TF.Variable
  /** S: the slice's padded rows. */
  rows: number
  dim: number
  /** S·(d + 1): the embedding and bias; the private vector, when trained, follows. */
  sharedSize: number
  withVector: boolean
}

/**
 * The variable initialised from the slice's global values (and the private vector); kept by `own`.
 * @example
 * const model = createSequenceParams(tf, { cut, dim: 32, own })
 */
export function createSequenceParams(
  tf: typeof TF,
  options: {
    cut: RowCut
    dim: number
    privateVector?: Float32Array | undefined
    own: <T extends TF.Tensor>(t: T) => T
  },
): SequenceParams {
  const { cut, dim, privateVector, own } = options
  const rows = cut.paddedRows
  const sharedSize = rows * (dim + 1)
  const withVector = privateVector !== undefined
  const initial = new Float32Array(sharedSize + (withVector ? dim : 0))
  initial.set(cut.embedding, 0)
  initial.set(cut.bias, rows * dim)
  if (withVector) initial.set(privateVector, sharedSize)
  const params = own(tf.tidy(() => tf.variable(tf.tensor1d(initial))))
  return { params, rows, dim, sharedSize, withVector }
}

/** The parts of the variable as tensors: embedding `[S, d]`, bias `[S, 1]`, user `[1, d]`. Call in a tidy. */
export function paramParts(
  tf: typeof TF,
  model: SequenceParams,
): { embedding: TF.Tensor2D; bias: TF.Tensor2D; user: TF.Tensor2D | undefined } {
  const { params, rows, dim, sharedSize, withVector } = model
  const embedding = tf.reshape(tf.slice(params, 0, rows * dim), [rows, dim]) as TF.Tensor2D
  const bias = tf.reshape(tf.slice(params, rows * dim, rows), [rows, 1]) as TF.Tensor2D
  const user = withVector
    ? (tf.reshape(tf.slice(params, sharedSize, dim), [1, dim]) as TF.Tensor2D)
    : undefined
  return { embedding, bias, user }
}

/** The round's private vector (`keptVector` when none is trained) and slice deltas, from the read-back values. */
export function trainedValues(
  values: Float32Array,
  model: SequenceParams,
  cut: RowCut,
  keptVector: Float32Array,
): Pick<LocalTrainingResult, 'userVector' | 'deltas'> {
  const { rows, dim, sharedSize, withVector } = model
  return {
    userVector: withVector ? values.slice(sharedSize, sharedSize + dim) : keptVector,
    deltas: sliceDeltas(cut, dim, values.subarray(0, rows * dim), values.subarray(rows * dim, sharedSize)),
  }
}
