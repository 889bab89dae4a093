import { FEATURE_BIAS, FEATURE_EMBEDDING, ITEM_BIAS, ITEM_EMBEDDING } from '@fedrec/protocol'
import { expect, it } from 'vitest'
import { trainClientRound } from './client-round.ts'
import { featureRows, hashFeature } from './item-features.ts'
import { createRng } from './rng.ts'
import type { RowEvent } from './samples.ts'
import { createScorer } from './scorer.ts'
import { cutRows } from './slice.ts'
import { useNodeBackend } from './test-backend-node.ts'
import { describeWithBackends, NODE_BACKENDS } from './test-backends.ts'
import { initSharedWeights } from './weights.ts'

const { tf } = await useNodeBackend()

const NUM_ITEMS = 30
const DIM = 4
const F = 64
/** Items 0..19 have a category (of 4) and a brand; items 20..29 have none. */
const features = Array.from({ length: NUM_ITEMS }, (_, i) =>
  i < 20 ? [`cat:c${i % 4}`, `brand:b${i % 3}`] : [],
)
const itemFeatures = featureRows(features, F)
const events: RowEvent[] = [0, 4, 8, 12, 21, 16].map((row) => ({ type: 'click', row }))
const config = {
  mu: 0.01,
  localEpochs: 2,
  learningRate: 0.05,
  negativesPerPositive: 3,
  batchSize: 16,
  padRatio: 1,
}

describeWithBackends('training with item features', NODE_BACKENDS, () => {
  it('uploads the feature rows of the slice’s items as two more tensors, leaving no tensors behind', async () => {
    const weights = initSharedWeights(NUM_ITEMS, DIM, createRng(1), { numFeatures: F, itemFeatures })
    const before = weights.features!.embedding.slice()
    const tensors = tf.memory().numTensors
    const { result } = await trainClientRound(tf, {
      weights,
      userVector: new Float32Array(DIM),
      events,
      config,
      rng: createRng(2),
      itemFeatures,
    })
    expect(tf.memory().numTensors).toBe(tensors)
    expect(weights.features!.embedding).toEqual(before)
    expect(result.deltas.map((d) => d.name)).toEqual([
      ITEM_EMBEDDING,
      ITEM_BIAS,
      FEATURE_EMBEDDING,
      FEATURE_BIAS,
    ])
    const [items, , featureEmbedding, featureBias] = result.deltas
    // Exactly the feature rows of the items the round touched, ascending.
    const used = new Set<number>()
    for (const item of items!.rowIds)
      for (let j = itemFeatures.offsets[item]!; j < itemFeatures.offsets[item + 1]!; j++)
        used.add(itemFeatures.rows[j]!)
    expect([...featureEmbedding!.rowIds]).toEqual([...used].sort((a, b) => a - b))
    expect(featureBias!.rowIds).toEqual(featureEmbedding!.rowIds)
    expect(featureEmbedding!.values.some((v) => v !== 0)).toBe(true)
    expect(featureBias!.values.some((v) => v !== 0)).toBe(true)
  })

  it('trains items without features exactly as the id-only model does', async () => {
    const idOnly = initSharedWeights(NUM_ITEMS, DIM, createRng(3))
    const withTable = {
      ...idOnly,
      features: { rows: F, embedding: new Float32Array(F * DIM).fill(0.3), bias: new Float32Array(F) },
    }
    const none = featureRows(
      Array.from({ length: NUM_ITEMS }, () => []),
      F,
    )
    const round = (w: typeof idOnly, f?: typeof none) =>
      trainClientRound(tf, {
        weights: w,
        userVector: new Float32Array(DIM),
        events,
        config,
        rng: createRng(4),
        ...(f ? { itemFeatures: f } : {}),
      })
    const a = await round(idOnly)
    const b = await round(withTable, none)
    expect(b.result.deltas).toEqual(a.result.deltas)
    expect(b.result.loss).toBe(a.result.loss)
  })

  it('with negativesOnFeatures, leaves the id row and bias of an item that was only a negative untouched, and trains its feature rows', async () => {
    const weights = initSharedWeights(NUM_ITEMS, DIM, createRng(7), { numFeatures: F, itemFeatures })
    const touched = new Set(events.map((e) => e.row))
    const round = (negativesOnFeatures: boolean) =>
      trainClientRound(tf, {
        weights,
        userVector: new Float32Array(DIM),
        events,
        config: { ...config, padRatio: 0, negativesOnFeatures },
        rng: createRng(8),
        itemFeatures,
      })
    // Per delta tensor, the values of the rows the shopper never touched (only drawn as negatives).
    const ofNegatives = async (negativesOnFeatures: boolean) => {
      const [embedding, bias, featureEmbedding] = (await round(negativesOnFeatures)).result.deltas
      const values = (d: typeof embedding, width: number) =>
        [...d!.rowIds].flatMap((row, i) =>
          touched.has(row) ? [] : [...d!.values.subarray(i * width, (i + 1) * width)],
        )
      return {
        rows: [...embedding!.rowIds].filter((r) => !touched.has(r)),
        id: [...values(embedding, DIM), ...values(bias, 1)],
        features: [...featureEmbedding!.values],
      }
    }
    const kept = await ofNegatives(true)
    const plain = await ofNegatives(false)
    expect(kept.rows.length).toBeGreaterThan(0)
    expect(kept.rows).toEqual(plain.rows)
    expect(kept.id.every((v) => v === 0)).toBe(true)
    expect(plain.id.some((v) => v !== 0)).toBe(true)
    expect(kept.features.some((v) => v !== 0)).toBe(true)
  })

  it('scores items never trained and items newer than the model by their features', async () => {
    const weights = initSharedWeights(NUM_ITEMS, DIM, createRng(5), { numFeatures: F, itemFeatures })
    // A catalogue grown by two products after the model: one of category 1, one without features.
    const grown = featureRows([...features, ['cat:c1', 'brand:b0'], []], F)
    const scorer = createScorer(tf, weights, { itemFeatures: grown })
    try {
      const cat1 = weights.features!.embedding.subarray(
        grown.rows[grown.offsets[NUM_ITEMS]!]! * DIM,
        grown.rows[grown.offsets[NUM_ITEMS]!]! * DIM + DIM,
      )
      const top = await scorer.topK(Float32Array.from(cat1), NUM_ITEMS + 2)
      expect(top).toHaveLength(NUM_ITEMS + 2)
      const newItem = top.find((s) => s.row === NUM_ITEMS)!
      // Item 30's vector is (E[cat:c1] + E[brand:b0]) / √2; item 31 (no features, no id row) scores 0.
      const brand = grown.rows[grown.offsets[NUM_ITEMS]! + 1]!
      let expected = 0
      for (let c = 0; c < DIM; c++)
        expected += (cat1[c]! * (cat1[c]! + weights.features!.embedding[brand * DIM + c]!)) / Math.SQRT2
      expect(newItem.score).toBeCloseTo(expected, 5)
      expect(top.find((s) => s.row === NUM_ITEMS + 1)!.score).toBe(0)
    } finally {
      scorer.dispose()
    }
  })
})

it('cuts the feature rows of the slice’s items with their mixing weights', () => {
  const weights = initSharedWeights(NUM_ITEMS, DIM, createRng(6), { numFeatures: F, itemFeatures })
  const cut = cutRows(weights, [20, 1, 5], itemFeatures)
  // Items 1 and 5 share category c1 and differ in brand (b1, b2); item 20 has no features.
  const rowOf = (feature: string) => hashFeature(feature, F)
  const expectedRows = [rowOf('cat:c1'), rowOf('brand:b1'), rowOf('brand:b2')].sort((a, b) => a - b)
  expect([...cut.features!.rows]).toEqual(expectedRows)
  const sf = cut.features!.paddedRows
  const mixOf = (localItem: number, featureRow: number) =>
    cut.features!.mix[localItem * sf + cut.features!.local.get(featureRow)!]
  expect(mixOf(0, rowOf('cat:c1'))).toBeCloseTo(Math.SQRT1_2, 6)
  expect(mixOf(0, rowOf('brand:b1'))).toBeCloseTo(Math.SQRT1_2, 6)
  expect(mixOf(1, rowOf('brand:b1'))).toBe(0)
  expect(cut.features!.mix.subarray(2 * sf, 3 * sf).every((v) => v === 0)).toBe(true)
  expect(cut.features!.mixT[cut.features!.local.get(rowOf('cat:c1'))! * cut.paddedRows + 1]).toBeCloseTo(
    Math.SQRT1_2,
    6,
  )
  expect(cutRows(weights, [20, 21], itemFeatures).features).toBeUndefined()
})
