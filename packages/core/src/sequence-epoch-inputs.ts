// One epoch's batches uploaded to the backend, from the CPU buffers.
import type * as TF from '@tensorflow/tfjs-core'
import type { RowLookup } from './local-training.ts'
import type { BatchBuffers, BatchPlan } from './sequence-batches.ts'
import type { Pools } from './sequence-pools.ts'
import { buildSumTables } from './sequence-sum-tables.ts'

/** One epoch's targets on the backend, step after step (B targets a step). */
export interface EpochInputs {
  positives: TF.Tensor1D
  negatives: TF.Tensor1D
  /** The pooling matrices of the epoch's only batch; absent when there are several (built per step). */
  pools?: Pools
  weights: TF.Tensor2D
  sumTables?: TF.Tensor2D
}

/**
 * Uploads the filled buffers; every tensor goes through `own`, which keeps it for the final dispose.
 * @example
 * const inputs = uploadEpochInputs(tf, { plan, buffers, poolsOf, lookup: 'scatter', own })
 */
export function uploadEpochInputs(
  tf: typeof TF,
  options: {
    plan: BatchPlan
    buffers: BatchBuffers
    poolsOf: (b: number) => Pools
    lookup: RowLookup
    own: <T extends TF.Tensor>(t: T) => T
  },
): EpochInputs {
  const { plan, buffers, poolsOf, lookup, own } = options
  const { batches, reads, rows, slots } = plan
  const tables =
    lookup === 'row-table' ? buildSumTables(buffers.readRows, { batches, reads, rows }) : undefined
  const ownBoth = (p: Pools) => ({ pool: own(p.pool), poolT: own(p.poolT) })
  return {
    positives: own(tf.tensor1d(buffers.positives, 'int32')),
    negatives: own(tf.tensor1d(buffers.negatives, 'int32')),
    ...(batches === 1 && { pools: ownBoth(poolsOf(0)) }),
    weights: own(tf.tensor2d(buffers.targetWeights, [slots, 1])),
    ...(tables && {
      sumTables: own(tf.tensor2d(tables.values, [batches * rows, tables.width], 'int32')),
    }),
  }
}
