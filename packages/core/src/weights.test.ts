import { ITEM_BIAS, ITEM_EMBEDDING, type ModelSnapshot } from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { ModelError } from './errors.ts'
import { createRng } from './rng.ts'
import {
  DEFAULT_DIM,
  initSharedWeights,
  initUserVector,
  sharedWeightsFromSnapshot,
  sharedWeightsToTensors,
} from './weights.ts'

const snapshotOf = (tensors: ModelSnapshot['tensors'], items = 3): ModelSnapshot => ({
  modelVersion: 1,
  round: 1,
  itemIds: Array.from({ length: items }, (_, i) => `item-${i}`),
  tensors,
})

describe('shared weights', () => {
  it('initialises small random embeddings and zero biases, deterministically', () => {
    const a = initSharedWeights(50, DEFAULT_DIM, createRng(1))
    expect(a.itemEmbedding.length).toBe(50 * DEFAULT_DIM)
    expect(a.itemBias).toEqual(new Float32Array(50))
    const rms = Math.sqrt(a.itemEmbedding.reduce((s, x) => s + x * x, 0) / a.itemEmbedding.length)
    expect(rms).toBeGreaterThan(0.05)
    expect(rms).toBeLessThan(0.2)
    expect(initSharedWeights(50, DEFAULT_DIM, createRng(1))).toEqual(a)
    expect(initUserVector(8, createRng(2), 0).every((x) => x === 0)).toBe(true)
  })

  it('round-trips through wire tensors', () => {
    const w = initSharedWeights(3, 4, createRng(1))
    const tensors = sharedWeightsToTensors(w)
    expect(tensors.map((t) => [t.name, t.rows, t.cols])).toEqual([
      [ITEM_EMBEDDING, 3, 4],
      [ITEM_BIAS, 3, 1],
    ])
    expect(sharedWeightsFromSnapshot(snapshotOf(tensors))).toEqual(w)
  })

  it('names what is wrong with a bad snapshot', () => {
    const w = initSharedWeights(3, 4, createRng(1))
    const [emb, bias] = sharedWeightsToTensors(w) as [
      ModelSnapshot['tensors'][0],
      ModelSnapshot['tensors'][0],
    ]
    expect(() => sharedWeightsFromSnapshot(snapshotOf([emb]))).toThrow(/no tensor item_bias/)
    expect(() => sharedWeightsFromSnapshot(snapshotOf([emb, bias], 4))).toThrow(/expected 4×4/)
    expect(() => sharedWeightsFromSnapshot(snapshotOf([emb, { ...bias, cols: 2 }]))).toThrow(ModelError)
    const nan = { ...bias, values: Float32Array.of(0, Number.NaN, 0) }
    expect(() => sharedWeightsFromSnapshot(snapshotOf([emb, nan]))).toThrow(/non-finite value at index 1/)
  })
})
