// One secure-aggregated round in process, without training: the real protocol on hand-made uploads, so the
// layout with item features is checked in seconds (secure-aggregation.test.ts runs whole simulations).
import { createRng, type Rng } from '@fedrec/core/client'
import { createAccumulator } from '@fedrec/core/server'
import {
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  type TensorDelta,
} from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { type SecureUpload, secureAggregateRound } from './secure-aggregation.ts'

const NUM_ITEMS = 10
const DIM = 3
const F = 8

/** Bias and embedding deltas of a few random rows of a table of `rows` rows. */
function table(rng: Rng, rows: number, biasName: string, embeddingName: string): TensorDelta[] {
  const rowIds = Uint32Array.from(new Set([rng.int(rows), rng.int(rows), rng.int(rows)])).sort()
  return [
    {
      name: embeddingName,
      cols: DIM,
      rowIds,
      values: Float32Array.from({ length: rowIds.length * DIM }, () => rng.normal() / 10),
    },
    { name: biasName, cols: 1, rowIds, values: Float32Array.from(rowIds, () => rng.normal() / 10) },
  ]
}

const shapes = [
  { name: ITEM_EMBEDDING, rows: NUM_ITEMS, cols: DIM },
  { name: ITEM_BIAS, rows: NUM_ITEMS, cols: 1 },
  { name: FEATURE_EMBEDDING, rows: F, cols: DIM },
  { name: FEATURE_BIAS, rows: F, cols: 1 },
]

describe('secureAggregateRound with item features', () => {
  const rng = createRng(21)
  const uploads: SecureUpload[] = Array.from({ length: 6 }, (_, client) => ({
    client,
    weight: 2 + rng.int(20),
    deltas: [
      ...table(rng, NUM_ITEMS, ITEM_BIAS, ITEM_EMBEDDING),
      ...table(rng, F, FEATURE_BIAS, FEATURE_EMBEDDING),
    ],
  }))

  it('masks the feature rows too: the accumulator gets the plain mean of every tensor, within quantisation', async () => {
    const plain = createAccumulator({ tensors: shapes, rowNormalization: 'touched' })
    for (const u of uploads) plain.add({ sampleCount: u.weight, tensors: u.deltas })
    const secure = createAccumulator({ tensors: shapes, rowNormalization: 'touched' })
    const stats = await secureAggregateRound({
      round: 0,
      seed: 3,
      numItems: NUM_ITEMS,
      dim: DIM,
      numFeatures: F,
      uploads,
      accumulator: secure,
      dropout: 0,
    })
    expect(stats).toMatchObject({ cohorts: 1, aborted: 0, aggregated: 6, clipped: 0 })
    // The dense masked vector alone: 4 bytes × (1 + (10 + 8)·(2 + 3)).
    expect(stats.bytesUp).toBeGreaterThan(4 * (1 + (NUM_ITEMS + F) * (2 + DIM)))
    expect(secure.samples).toBe(plain.samples)
    const a = plain.result()
    const b = secure.result()
    for (const { name } of shapes) {
      const x = a.get(name)!
      const y = b.get(name)!
      let worst = 0
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!))
      // < 1/256 per summand, a row divided by the weights (each ≥ 2) of the uploads that touched it.
      expect(worst, name).toBeLessThan(1 / (256 * 2))
      expect(
        y.some((v) => v !== 0),
        name,
      ).toBe(true)
    }
  })

  it('refuses feature deltas when the round has no feature table', async () => {
    await expect(
      secureAggregateRound({
        round: 0,
        seed: 3,
        numItems: NUM_ITEMS,
        dim: DIM,
        uploads,
        accumulator: createAccumulator({ tensors: shapes }),
        dropout: 0,
      }),
    ).rejects.toThrow('tensor "feature_embedding" needs a vector with feature rows')
  })
})
