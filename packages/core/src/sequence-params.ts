// A client round's trained values as one flat variable: slice embedding | slice bias | feature embedding |
// feature bias | private vector (the feature parts only with item features).
import type * as TF from '@tensorflow/tfjs-core'
import { type LocalTrainingResult, sliceDeltas } from './local-training.ts'
import type { RowCut } from './slice.ts'

/** The flat variable and where its parts lie. */
export interface SequenceParams {
  params: TF.Variable
  /** S: the slice's padded rows. */
  rows: number
  /** Sf: the slice's padded feature rows (0 without features). */
  featureRows: number
  dim: number
  /** (S + Sf)·(d + 1): the shared parts; the private vector, when trained, follows. */
  sharedSize: number
  withVector: boolean
}

/** The variable's parts as tensors (`paramParts`). */
export interface ParamParts {
  embedding: TF.Tensor2D
  bias: TF.Tensor2D
  /** The slice's feature rows `[Sf, d]` and biases `[Sf, 1]`, with item features. */
  features: { embedding: TF.Tensor2D; bias: TF.Tensor2D } | undefined
  user: TF.Tensor2D | undefined
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
  const featureRows = cut.features?.paddedRows ?? 0
  const sharedSize = (rows + featureRows) * (dim + 1)
  const withVector = privateVector !== undefined
  const initial = new Float32Array(sharedSize + (withVector ? dim : 0))
  initial.set(cut.embedding, 0)
  initial.set(cut.bias, rows * dim)
  if (cut.features) {
    initial.set(cut.features.embedding, rows * (dim + 1))
    initial.set(cut.features.bias, rows * (dim + 1) + featureRows * dim)
  }
  if (withVector) initial.set(privateVector, sharedSize)
  const params = own(tf.tidy(() => tf.variable(tf.tensor1d(initial))))
  return { params, rows, featureRows, dim, sharedSize, withVector }
}

/** The parts of the variable as tensors: embedding `[S, d]`, bias `[S, 1]`, features, user `[1, d]`. Call in a tidy. */
export function paramParts(tf: typeof TF, model: SequenceParams): ParamParts {
  const { params, rows, featureRows, dim, sharedSize, withVector } = model
  const embedding = tf.reshape(tf.slice(params, 0, rows * dim), [rows, dim]) as TF.Tensor2D
  const bias = tf.reshape(tf.slice(params, rows * dim, rows), [rows, 1]) as TF.Tensor2D
  const at = rows * (dim + 1)
  const features =
    featureRows > 0
      ? {
          embedding: tf.reshape(tf.slice(params, at, featureRows * dim), [featureRows, dim]) as TF.Tensor2D,
          bias: tf.reshape(tf.slice(params, at + featureRows * dim, featureRows), [
            featureRows,
            1,
          ]) as TF.Tensor2D,
        }
      : undefined
  const user = withVector
    ? (tf.reshape(tf.slice(params, sharedSize, dim), [1, dim]) as TF.Tensor2D)
    : undefined
  return { embedding, bias, features, user }
}

/** The round's private vector (`keptVector` when none is trained) and slice deltas, from the read-back values. */
export function trainedValues(
  values: Float32Array,
  model: SequenceParams,
  cut: RowCut,
  keptVector: Float32Array,
): Pick<LocalTrainingResult, 'userVector' | 'deltas'> {
  const { rows, featureRows, dim, sharedSize, withVector } = model
  const at = rows * (dim + 1)
  return {
    userVector: withVector ? values.slice(sharedSize, sharedSize + dim) : keptVector,
    deltas: sliceDeltas(cut, dim, {
      embedding: values.subarray(0, rows * dim),
      bias: values.subarray(rows * dim, at),
      ...(cut.features && {
        features: {
          embedding: values.subarray(at, at + featureRows * dim),
          bias: values.subarray(at + featureRows * dim, sharedSize),
        },
      }),
    }),
  }
}
