// The next model of a model with item features, without a store: the feature table stepped by FedAvg, FedProx
// (client-side, the same server step) and FedAdam like the item table; new items hashed into it.
import { createServerOptimizer, featureRows } from '@fedrec/core/server'
import { FEATURE_BIAS, FEATURE_EMBEDDING, ITEM_BIAS, ITEM_EMBEDDING } from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import type { OptimizerState, StoredModel } from '../store/index.ts'
import { type NextModelInput, nextModel, SERVER_TAU } from './next-model.ts'

const f32 = (...values: number[]) => Float32Array.from(values)
const close = (actual: Float32Array | undefined, expected: number[]) => {
  expect(actual).toHaveLength(expected.length)
  for (const [i, e] of expected.entries()) expect(actual![i]).toBeCloseTo(e, 6)
}

/** Version 2, dim 2, one item 'a' with the features of row 1 of a 2-row table. */
const model = (): StoredModel => ({
  version: 2,
  round: 2,
  dim: 2,
  itemIds: ['a'],
  itemEmbedding: f32(1, 2),
  itemBias: f32(0.5),
  createdAt: '2030-01-01T00:00:00.000Z',
  features: {
    table: { rows: 2, embedding: f32(0, 1, -1, 2), bias: f32(0.25, -0.5) },
    items: { numFeatures: 2, offsets: Uint32Array.from([0, 1]), rows: Uint32Array.from([1]) },
  },
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
    [FEATURE_EMBEDDING, f32(0, 0, 0.5, 0.5)],
    [FEATURE_BIAS, f32(0, -1)],
  ])

describe('nextModel with item features', () => {
  it('fedavg (η = 1): the feature table moves by its mean delta, the input model stays as it was', () => {
    const before = model()
    const next = nextModel(input({ model: before, meanDelta: meanDelta() }))
    close(next.model.features?.table.embedding, [0, 1, -0.5, 2.5])
    close(next.model.features?.table.bias, [0.25, -1.5])
    close(next.model.itemEmbedding, [1.5, 1.75])
    // √(0.5² + 0.25² + 1² + 0.5² + 0.5² + 1²) over every tensor the step moved.
    expect(next.updateNorm).toBeCloseTo(Math.sqrt(2.8125), 6)
    expect(Array.from(next.model.features?.items.rows ?? [])).toEqual([1])
    close(before.features?.table.embedding, [0, 1, -1, 2])
  })

  it('fedadam: the feature table gets moments of its own F rows, which catalogue growth leaves alone', () => {
    const state: OptimizerState = new Map()
    const optimizer = createServerOptimizer({ name: 'fedadam', learningRate: 0.1, tau: SERVER_TAU })
    const next = nextModel(
      input({ optimizer, optimizerState: state, meanDelta: meanDelta(), pending: ['b'] }),
    )
    expect(next.model.features?.table.embedding).toHaveLength(4)
    // A non-zero delta moves its value by about η (Adam's first step), a zero delta not at all.
    const embedding = next.model.features!.table.embedding
    expect(embedding[0]).toBeCloseTo(0, 6)
    expect(embedding[2]! - -1).toBeCloseTo(0.1, 2)
    expect(next.optimizerState.get(FEATURE_EMBEDDING)?.m).toHaveLength(4)
    expect(next.optimizerState.get(FEATURE_BIAS)?.v).toHaveLength(2)
    // The item tensors' moments grew by the new item's row; the stored state is not touched.
    expect(next.optimizerState.get(ITEM_EMBEDDING)?.m).toHaveLength(4)
    expect(state.size).toBe(0)
  })

  it('grows the catalogue: new items get their hashed feature rows and, when they have features, a zero id row', () => {
    const strings = new Map([
      ['b', ['cat:mugs', 'brand:acme']],
      ['d', ['cat:mugs']],
    ])
    const next = nextModel(input({ pending: ['b', 'c', 'd'], pendingFeatures: strings }))
    const expected = featureRows([['cat:mugs', 'brand:acme'], undefined, ['cat:mugs']], 2)
    const items = next.model.features!.items
    expect(Array.from(items.offsets)).toEqual([0, 1, 3, 3, 4])
    expect(Array.from(items.rows)).toEqual([1, ...expected.rows])
    const embedding = next.model.itemEmbedding
    expect(Array.from(embedding.slice(2, 4))).toEqual([0, 0])
    expect(embedding.slice(4, 6).some((v) => v !== 0)).toBe(true)
    expect(Array.from(embedding.slice(6, 8))).toEqual([0, 0])
    expect(next.model.itemIds).toEqual(['a', 'b', 'c', 'd'])
    // The feature table keeps its F rows.
    expect(next.model.features?.table.rows).toBe(2)
  })
})
