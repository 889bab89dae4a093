// The next model without a store: hand-worked optimizer steps and catalogue growth on a one-item model.
import { createServerOptimizer } from '@fedrec/core/server'
import { ITEM_BIAS, ITEM_EMBEDDING } from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import type { OptimizerState, StoredModel } from '../store/index.ts'
import { type NextModelInput, nextModel, SERVER_TAU } from './next-model.ts'

const f32 = (...values: number[]) => Float32Array.from(values)
const close = (actual: Float32Array | undefined, expected: number[]) => {
  expect(actual).toHaveLength(expected.length)
  for (const [i, e] of expected.entries()) expect(actual![i]).toBeCloseTo(e, 6)
}

/** Version 2 with one item 'a': embedding [1, 2], bias 0.5. */
const model = (): StoredModel => ({
  version: 2,
  round: 2,
  dim: 2,
  itemIds: ['a'],
  itemEmbedding: f32(1, 2),
  itemBias: f32(0.5),
  createdAt: '2030-01-01T00:00:00.000Z',
})

const input = (over: Partial<NextModelInput> = {}): NextModelInput => ({
  model: model(),
  optimizerState: new Map(),
  optimizer: createServerOptimizer({ name: 'fedavg' }),
  meanDelta: undefined,
  pending: [],
  seed: 11,
  createdAt: '2030-01-01T00:05:00.000Z',
  ...over,
})

const meanDelta = () =>
  new Map([
    [ITEM_EMBEDDING, f32(0.5, -0.25)],
    [ITEM_BIAS, f32(1)],
  ])

describe('nextModel', () => {
  it('fedavg (η = 1): x += Δ; the update norm is the step’s, √(0.5² + 0.25² + 1²) = √1.3125', () => {
    const before = model()
    const next = nextModel(input({ model: before, meanDelta: meanDelta() }))
    // embedding [1 + 0.5, 2 − 0.25] = [1.5, 1.75]; bias 0.5 + 1 = 1.5
    close(next.model.itemEmbedding, [1.5, 1.75])
    close(next.model.itemBias, [1.5])
    expect(next.updateNorm).toBeCloseTo(Math.sqrt(1.3125), 6)
    expect(next.model).toMatchObject({ version: 3, round: 3, dim: 2, itemIds: ['a'] })
    expect(next.model.createdAt).toBe('2030-01-01T00:05:00.000Z')
    // The input model is not touched: a failed write must leave the served one as it was.
    close(before.itemEmbedding, [1, 2])
    close(before.itemBias, [0.5])
  })

  it('fedavgm (β = 0.9): m = 0.9·m + Δ on a copy of the stored moments', () => {
    const state: OptimizerState = new Map([
      [ITEM_EMBEDDING, { m: f32(1, 0) }],
      [ITEM_BIAS, { m: f32(0) }],
    ])
    const next = nextModel(
      input({
        optimizer: createServerOptimizer({ name: 'fedavgm' }),
        optimizerState: state,
        meanDelta: meanDelta(),
      }),
    )
    // m = [0.9·1 + 0.5, 0.9·0 − 0.25] = [1.4, −0.25]; embedding [1 + 1.4, 2 − 0.25] = [2.4, 1.75]
    close(next.optimizerState.get(ITEM_EMBEDDING)?.m, [1.4, -0.25])
    close(next.model.itemEmbedding, [2.4, 1.75])
    // bias: m = 0.9·0 + 1 = 1; 0.5 + 1 = 1.5
    close(next.optimizerState.get(ITEM_BIAS)?.m, [1])
    close(next.model.itemBias, [1.5])
    close(state.get(ITEM_EMBEDDING)?.m, [1, 0])
  })

  it('no mean delta: no step, the same weights under the next version', () => {
    const next = nextModel(input())
    close(next.model.itemEmbedding, [1, 2])
    close(next.model.itemBias, [0.5])
    expect(next.updateNorm).toBe(0)
    expect(next.model.version).toBe(3)
  })

  it('pending items are appended with rows from the seed and the version, and moments m = 0, v = τ²', () => {
    const state: OptimizerState = new Map([
      [ITEM_EMBEDDING, { m: f32(0.1, 0.2), v: f32(0.01, 0.02) }],
      [ITEM_BIAS, { m: f32(0.3), v: f32(0.03) }],
    ])
    const next = nextModel(input({ optimizerState: state, pending: ['b', 'c'] }))
    expect(next.model.itemIds).toEqual(['a', 'b', 'c'])
    expect(next.model.itemEmbedding).toHaveLength(6)
    expect(next.model.itemBias).toHaveLength(3)
    close(next.model.itemEmbedding.subarray(0, 2), [1, 2])
    const tau2 = SERVER_TAU * SERVER_TAU
    close(next.optimizerState.get(ITEM_EMBEDDING)?.m, [0.1, 0.2, 0, 0, 0, 0])
    close(next.optimizerState.get(ITEM_EMBEDDING)?.v, [0.01, 0.02, tau2, tau2, tau2, tau2])
    close(next.optimizerState.get(ITEM_BIAS)?.m, [0.3, 0, 0])
    close(next.optimizerState.get(ITEM_BIAS)?.v, [0.03, tau2, tau2])
    // A store rebuilt from the same inputs gets the same rows; another seed gets others.
    const again = nextModel(input({ optimizerState: state, pending: ['b', 'c'] }))
    expect(Array.from(again.model.itemEmbedding)).toEqual(Array.from(next.model.itemEmbedding))
    const other = nextModel(input({ optimizerState: state, pending: ['b', 'c'], seed: 12 }))
    expect(Array.from(other.model.itemEmbedding.subarray(2))).not.toEqual(
      Array.from(next.model.itemEmbedding.subarray(2)),
    )
  })
})
