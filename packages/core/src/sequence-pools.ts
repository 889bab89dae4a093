// The pooling matrices of one batch, built on the CPU: the queries are one matMul with the slice table.
import type * as TF from '@tensorflow/tfjs-core'
import type { BatchBuffers, BatchPlan } from './sequence-batches.ts'

/** A batch's pooling matrix `[B, S]` (row t: target t's α_tj at its context rows) and its transpose. */
export interface Pools {
  pool: TF.Tensor2D
  poolT: TF.Tensor2D
}

/**
 * `poolsOf(b)`: batch b's pooling matrices from the buffers' current layout, as fresh tensors (the caller
 * disposes them). The CPU arrays are reused from call to call.
 * @example
 * const poolsOf = createPoolBuilder(tf, plan, buffers)
 * const { pool, poolT } = poolsOf(0)
 */
export function createPoolBuilder(
  tf: typeof TF,
  plan: BatchPlan,
  buffers: Pick<BatchBuffers, 'contextRows' | 'contextWeights'>,
): (b: number) => Pools {
  const { perStep, rows, contextWidth } = plan
  const { contextRows, contextWeights } = buffers
  // One batch's pooling matrix [B, S] and its transpose (tfjs-backend-wasm multiplies by a transposed
  // operand 10–40× slower): built per step when an epoch has several batches, once otherwise.
  const pool = new Float32Array(perStep * rows)
  const poolT = new Float32Array(rows * perStep)
  return (b) => {
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
}
