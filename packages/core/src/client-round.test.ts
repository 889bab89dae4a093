import { describe, expect, it } from 'vitest'
import { DEFAULT_CLIENT_SETTINGS, trainClientRound } from './client-round.ts'
import { createRng } from './rng.ts'
import type { RowEvent } from './samples.ts'
import { buildSequenceSamples } from './sequence.ts'
import { useNodeBackend } from './test-backend-node.ts'
import { trainSequence } from './train-sequence.ts'
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
  it('is exactly the browser round: next-item examples of the history, then trainSequence on the slice', async () => {
    const { weights, userVector } = setup()
    const round = await trainClientRound(tf, { weights, userVector, events, config, rng: createRng(9) })

    // The same steps spelled out, with the same random stream.
    const rng = createRng(9)
    const samples = buildSequenceSamples(events, { numItems: NUM_ITEMS, negativesPerTarget: 2, rng })
    const trained = await trainSequence(tf, {
      weights,
      samples,
      epochs: 3,
      learningRate: 0.05,
      batchSize: 16,
      rng,
      mu: 0.01,
      l2: DEFAULT_CLIENT_SETTINGS.l2,
    })

    // 10 distinct items: 9 next-item targets × 2 negatives.
    expect(round.result.sampleCount).toBe(18)
    expect(round.result.deltas).toEqual(trained.deltas)
    // No private vector by default: the state is the pooled recent items; the stored vector stays zero.
    expect([...round.userVector]).toEqual(new Array(DIM).fill(0))
    const kept = await trainClientRound(tf, {
      weights,
      userVector,
      events,
      config: { ...config, privateVector: true },
      rng: createRng(9),
    })
    expect(kept.userVector).not.toEqual(userVector)
    expect(kept.userVector.length).toBe(DIM)
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
    // 10 items + 9 targets × 2 negatives: 28 rows at most without padding.
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
