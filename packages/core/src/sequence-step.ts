// One training step of the next-item model: one batch's gradients and Adam's update, inside one tf.tidy.
import type * as TF from '@tensorflow/tfjs-core'
import type { RowLookup } from './local-training.ts'
import type { BatchPlan } from './sequence-batches.ts'
import type { EpochInputs } from './sequence-epoch-inputs.ts'
import { sequenceGradients } from './sequence-gradients.ts'
import { paramParts, type SequenceParams } from './sequence-params.ts'
import type { Pools } from './sequence-pools.ts'

/** What stays the same from step to step of one client round. */
export interface StepContext {
  model: SequenceParams
  plan: BatchPlan
  adam: { step(gradient: TF.Tensor): void }
  /** Batch b's pooling matrices, for epochs of several batches (`EpochInputs.pools` is absent). */
  poolsOf: (b: number) => Pools
  lookup: RowLookup
  l2: number
  mu: number
  /** The slice's global values, for FedProx (mu > 0). */
  global?: { globalEmbedding: TF.Tensor2D; globalBias: TF.Tensor2D } | undefined
  /**
   * With item features: how the slice's items mix its feature rows, their global values for FedProx, and
   * whether negatives train the feature rows only (`SequenceStepInputs.negativesOnFeatures`).
   */
  features?:
    | {
        mix: TF.Tensor2D
        mixT: TF.Tensor2D
        global?: { globalEmbedding: TF.Tensor2D; globalBias: TF.Tensor2D } | undefined
        negativesOnFeatures: boolean
      }
    | undefined
}

/**
 * Trains on batch `b` of the epoch `x`: updates the variable, returns the batch's weighted loss sum (kept).
 * @example
 * const lossSum = sequenceStep(tf, context, inputs, 0, buffers.totalWeights[0]!)
 */
export function sequenceStep(
  tf: typeof TF,
  context: StepContext,
  x: EpochInputs,
  b: number,
  totalWeight: number,
): TF.Scalar {
  const { model, plan, adam, poolsOf, lookup, l2, mu, global, features } = context
  const { batches, perStep, k, rows } = plan
  return tf.tidy(() => {
    const part = <T extends TF.Tensor>(t: T, width: number): T =>
      batches === 1 ? t : (tf.slice(t, b * perStep * width, perStep * width) as T)
    const part2d = (t: TF.Tensor2D, height: number): TF.Tensor2D =>
      batches === 1 ? t : (tf.slice(t, [b * height, 0], [height, -1]) as TF.Tensor2D)
    const { embedding, bias, features: featureParts, user } = paramParts(tf, model)
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
      ...global,
      ...(features &&
        featureParts && {
          features: { ...featureParts, mix: features.mix, mixT: features.mixT, ...features.global },
          negativesOnFeatures: features.negativesOnFeatures,
        }),
    })
    // The gradient laid out like the variable: embedding | bias | feature embedding | feature bias | user.
    const parts = [tf.reshape(g.embedding, [-1]), tf.reshape(g.bias, [-1])]
    if (g.features) parts.push(tf.reshape(g.features.embedding, [-1]), tf.reshape(g.features.bias, [-1]))
    if (g.user) parts.push(tf.reshape(g.user, [-1]))
    adam.step(tf.concat(parts))
    return g.weightedLossSum
  })
}
