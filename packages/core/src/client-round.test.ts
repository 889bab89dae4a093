import { describe, expect, it } from 'vitest'
import { trainClientRound } from './client-round.ts'
import { createRng } from './rng.ts'
import type { RowEvent } from './samples.ts'
import { buildSamples } from './samples.ts'
import { useNodeBackend } from './test-backend-node.ts'
import { trainLocal } from './train-local.ts'
import { initSharedWeights, initUserVector } from './weights.ts'

const { tf } = await useNodeBackend()

const NUM_ITEMS = 40
const DIM = 8
const events: RowEvent[] = Array.from({ length: 10 }, (_, row) => ({
  type: row < 3 ? 'purchase' : 'click',
  row,
}))
const config = { mu: 0.01, localEpochs: 3, learningRate: 0.05, negativesPerPositive: 2, batchSize: 16 }

function setup() {
  const rng = createRng(5)
  return { weights: initSharedWeights(NUM_ITEMS, DIM, rng), userVector: initUserVector(DIM, rng) }
}

describe('trainClientRound', () => {
  it('is exactly the browser round: train (shared + user), then refit the user vector on the global rows', async () => {
    const { weights, userVector } = setup()
    const round = await trainClientRound(tf, { weights, userVector, events, config, rng: createRng(9) })

    // The same steps spelled out, with the same random stream.
    const rng = createRng(9)
    const samples = buildSamples(events, { numItems: NUM_ITEMS, negativesPerPositive: 2, rng })
    const common = { weights, samples, epochs: 3, learningRate: 0.05, batchSize: 16, rng }
    const trained = await trainLocal(tf, { ...common, userVector, mu: 0.01 })
    const refit = await trainLocal(tf, { ...common, userVector: trained.userVector, trainShared: false })

    expect(round.result.sampleCount).toBe(20)
    expect(round.result.deltas).toEqual(trained.deltas)
    expect(round.userVector).toEqual(refit.userVector)
    // The refit moved the vector (it fits the global rows, not the locally trained ones).
    expect(round.userVector).not.toEqual(trained.userVector)
  })

  it('leaves the global weights and the input vector untouched and no tensors behind', async () => {
    const { weights, userVector } = setup()
    const before = { e: weights.itemEmbedding.slice(), b: weights.itemBias.slice(), u: userVector.slice() }
    const tensors = tf.memory().numTensors
    await trainClientRound(tf, { weights, userVector, events, config, rng: createRng(1) })
    expect(tf.memory().numTensors).toBe(tensors)
    expect(weights.itemEmbedding).toEqual(before.e)
    expect(weights.itemBias).toEqual(before.b)
    expect(userVector).toEqual(before.u)
  })

  it('pads the upload when padRatio > 0: more rows than the real pairs touch, and more rows whose bias rose', async () => {
    const { weights, userVector } = setup()
    const padded = { ...config, padRatio: 2 }
    const plain = await trainClientRound(tf, {
      weights,
      userVector,
      events,
      config,
      rng: createRng(3),
      padSeed: 11,
    })
    const round = await trainClientRound(tf, {
      weights,
      userVector,
      events,
      config: padded,
      rng: createRng(3),
      padSeed: 11,
    })
    const rows = (r: typeof round) => r.result.deltas[1]!.rowIds.length
    const rose = (r: typeof round) => r.result.deltas[1]!.values.filter((v) => v > 0).length
    // 10 positives × (1 + 2 negatives) rows at most without padding.
    expect(rows(plain)).toBeLessThanOrEqual(30)
    expect(rows(round)).toBeGreaterThan(30)
    expect(rose(plain)).toBeLessThanOrEqual(10)
    expect(rose(round)).toBeGreaterThanOrEqual(20)
    expect(round.result.sampleCount).toBeGreaterThan(plain.result.sampleCount)
    expect(plain.pseudoItems).toEqual([])
    expect(round.pseudoItems.length).toBeGreaterThanOrEqual(20)
    // Handed back next round, they are kept even under another secret seed.
    const kept = await trainClientRound(tf, {
      weights,
      userVector,
      events,
      config: padded,
      rng: createRng(5),
      padSeed: 12,
      pseudoItems: round.pseudoItems,
    })
    expect(kept.pseudoItems).toEqual(round.pseudoItems)
    // The same secret seed, the same pseudo-items, whatever the round's stream.
    const again = await trainClientRound(tf, {
      weights,
      userVector,
      events,
      config: padded,
      rng: createRng(4),
      padSeed: 11,
    })
    const positiveRows = (r: typeof round) => {
      const b = r.result.deltas[1]!
      return [...b.rowIds].filter((_, i) => b.values[i]! > 0)
    }
    expect(positiveRows(again)).toEqual(positiveRows(round))
  })
})
