import '@tensorflow/tfjs-backend-cpu'
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import type { SequenceSamples } from './sequence.ts'
import { createBatchBuffers, fillBatches, planBatches } from './sequence-batches.ts'
import { createPoolBuilder } from './sequence-pools.ts'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

// Three targets, one negative each; target 0's context is row 10, target 1's rows 10 and 11, target 2 has none.
const samples: SequenceSamples = {
  targets: Int32Array.of(11, 12, 10),
  weights: Float32Array.of(1, 2, 4),
  negatives: Int32Array.of(13, 10, 12),
  negativesPerTarget: 1,
  contextStart: Int32Array.of(0, 1, 3, 3),
  contextRows: Int32Array.of(10, 10, 11),
  contextWeights: Float32Array.of(1, 0.75, 0.25),
  count: 3,
  realTargets: 3,
  pseudoItems: [],
}
// Global rows 10…13 are slice rows 0…3.
const at = (row: number) => row - 10

describe('planBatches / fillBatches', () => {
  it('lays the targets out in the given order, batch by batch, with padding reads at -1', () => {
    const plan = planBatches(samples, 4, 2)
    expect(plan).toEqual({
      targetCount: 3,
      k: 1,
      rows: 4,
      contextWidth: 4,
      perStep: 2,
      batches: 2,
      slots: 4,
      reads: 4,
    })
    const buffers = createBatchBuffers(plan)
    fillBatches(buffers, plan, samples, Int32Array.of(2, 0, 1), at)
    expect(Array.from(buffers.positives)).toEqual([0, 1, 2, 0])
    expect(Array.from(buffers.negatives)).toEqual([2, 3, 0, 0])
    expect(Array.from(buffers.targetWeights)).toEqual([4, 1, 2, 0])
    expect(Array.from(buffers.totalWeights)).toEqual([5, 2])
    expect(Array.from(buffers.readRows)).toEqual([0, 1, 2, 3, 2, -1, 0, -1])
    expect(Array.from(buffers.contextRows.subarray(4, 12))).toEqual([0, 0, 0, 0, 0, 1, 0, 0])
    expect(Array.from(buffers.contextWeights.subarray(4, 12))).toEqual([1, 0, 0, 0, 0.75, 0.25, 0, 0])
  })

  it('builds each batch pooling matrix and its transpose from the context weights', async () => {
    const plan = planBatches(samples, 4, 2)
    const buffers = createBatchBuffers(plan)
    fillBatches(buffers, plan, samples, Int32Array.of(2, 0, 1), at)
    const poolsOf = createPoolBuilder(tf, plan, buffers)
    const first = poolsOf(0)
    expect(await first.pool.array()).toEqual([
      [0, 0, 0, 0],
      [1, 0, 0, 0],
    ])
    const second = poolsOf(1)
    expect(await second.pool.array()).toEqual([
      [0.75, 0.25, 0, 0],
      [0, 0, 0, 0],
    ])
    expect(await second.poolT.array()).toEqual([
      [0.75, 0],
      [0.25, 0],
      [0, 0],
      [0, 0],
    ])
    tf.dispose([first.pool, first.poolT, second.pool, second.poolT])
  })
})
