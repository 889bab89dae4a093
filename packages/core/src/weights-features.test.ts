import {
  decodeModel,
  encodeModel,
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  type ModelSnapshot,
} from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { featureRows } from './item-features.ts'
import { createRng } from './rng.ts'
import { modelErrorCode } from './test-errors.ts'
import { initSharedWeights, sharedWeightsFromSnapshot, sharedWeightsToTensors } from './weights.ts'

describe('shared weights with a feature table', () => {
  it('starts the id rows of items with features at 0 and keeps the others random', () => {
    const itemFeatures = featureRows([['cat:a'], [], ['cat:b', 'brand:x']], 64)
    const w = initSharedWeights(4, 3, createRng(1), { numFeatures: 64, itemFeatures })
    expect([...w.itemEmbedding.subarray(0, 3)]).toEqual([0, 0, 0])
    expect([...w.itemEmbedding.subarray(6, 9)]).toEqual([0, 0, 0])
    // Item 1 has no features and item 3 is past the feature lists: both keep a random id row.
    expect(w.itemEmbedding.subarray(3, 6).some((v) => v !== 0)).toBe(true)
    expect(w.itemEmbedding.subarray(9, 12).some((v) => v !== 0)).toBe(true)
    expect(w.features?.rows).toBe(64)
    expect(w.features?.embedding.some((v) => v !== 0)).toBe(true)
    expect(w.features?.bias).toEqual(new Float32Array(64))
  })

  it('draws the id rows of an id-only model exactly as before a feature table existed', () => {
    expect(initSharedWeights(5, 3, createRng(7), { scale: 0.1 })).toEqual(
      initSharedWeights(5, 3, createRng(7), 0.1),
    )
    expect(initSharedWeights(5, 3, createRng(7)).features).toBeUndefined()
  })

  it('refuses features that do not fit the table', () => {
    const rng = createRng(1)
    expect(modelErrorCode(() => initSharedWeights(3, 2, rng, { numFeatures: 0 }))).toBe('bad_option')
    const f = featureRows([['cat:a']], 32)
    expect(modelErrorCode(() => initSharedWeights(3, 2, rng, { numFeatures: 64, itemFeatures: f }))).toBe(
      'shape_mismatch',
    )
    expect(modelErrorCode(() => initSharedWeights(3, 2, rng, { itemFeatures: f }))).toBe('bad_option')
  })

  it('goes to the wire as two more tensors and comes back sharing the arrays', () => {
    const w = initSharedWeights(3, 2, createRng(2), { numFeatures: 5 })
    const tensors = sharedWeightsToTensors(w)
    expect(tensors.map((t) => [t.name, t.rows, t.cols])).toEqual([
      [ITEM_EMBEDDING, 3, 2],
      [ITEM_BIAS, 3, 1],
      [FEATURE_EMBEDDING, 5, 2],
      [FEATURE_BIAS, 5, 1],
    ])
    const snapshot: ModelSnapshot = { modelVersion: 1, round: 1, itemIds: ['a', 'b', 'c'], tensors }
    const back = sharedWeightsFromSnapshot(snapshot)
    expect(back).toEqual(w)
    expect(back.features?.embedding).toBe(w.features?.embedding)
    // Through the binary model format: the snapshot already carries any named tensors.
    expect(sharedWeightsFromSnapshot(decodeModel(encodeModel(snapshot)))).toEqual(w)
  })

  it('reads a model without feature tensors as id-only, and refuses half a feature table', () => {
    const w = initSharedWeights(3, 2, createRng(2), { numFeatures: 5 })
    const [embedding, bias, featureEmbedding, featureBias] = sharedWeightsToTensors(w)
    const snapshot = (tensors: ModelSnapshot['tensors']): ModelSnapshot => ({
      modelVersion: 1,
      round: 1,
      itemIds: ['a', 'b', 'c'],
      tensors,
    })
    expect(sharedWeightsFromSnapshot(snapshot([embedding!, bias!])).features).toBeUndefined()
    expect(
      modelErrorCode(() => sharedWeightsFromSnapshot(snapshot([embedding!, bias!, featureEmbedding!]))),
    ).toBe('missing_tensor')
    expect(modelErrorCode(() => sharedWeightsFromSnapshot(snapshot([embedding!, bias!, featureBias!])))).toBe(
      'missing_tensor',
    )
    const narrow = { ...featureEmbedding!, cols: 1, values: new Float32Array(5) }
    expect(
      modelErrorCode(() => sharedWeightsFromSnapshot(snapshot([embedding!, bias!, narrow, featureBias!]))),
    ).toBe('shape_mismatch')
    const nan = { ...featureBias!, values: Float32Array.of(0, Number.NaN, 0, 0, 0) }
    expect(
      modelErrorCode(() => sharedWeightsFromSnapshot(snapshot([embedding!, bias!, featureEmbedding!, nan]))),
    ).toBe('non_finite')
  })
})
