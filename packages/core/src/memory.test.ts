import { describe, expect, it } from 'vitest'
import { createRng } from './rng.ts'
import { createScorer } from './scorer.ts'
import { buildSequenceSamples } from './sequence.ts'
import { useNodeBackend } from './test-backend-node.ts'
import { trainSequence } from './train-sequence.ts'
import { initSharedWeights, initUserVector } from './weights.ts'

const { tf } = await useNodeBackend()

describe('tensor memory', () => {
  it('does not grow over repeated training and scoring', async () => {
    const rng = createRng(4)
    const weights = initSharedWeights(200, 16, rng)
    let userVector = initUserVector(16, rng)
    const events = Array.from({ length: 20 }, (_, i) => ({ type: 'click' as const, row: i * 7 }))
    const cycle = async (mu: number) => {
      const samples = buildSequenceSamples(events, { numItems: 200, negativesPerTarget: 3, rng })
      const r = await trainSequence(tf, {
        weights,
        privateVector: userVector,
        samples,
        epochs: 2,
        learningRate: 0.01,
        batchSize: 16,
        mu,
        l2: 1e-4,
        rng,
      })
      userVector = r.userVector
      const scorer = createScorer(tf, weights)
      await scorer.topK(userVector, 10, new Set([0, 7]))
      await scorer.similarRows(3, 5)
      scorer.dispose()
    }
    await cycle(0) // warm-up: a backend may allocate lasting helpers on first use
    const before = tf.memory().numTensors
    for (let i = 0; i < 5; i++) await cycle(i % 2 === 0 ? 0 : 0.1)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('does not leak when training throws', async () => {
    const rng = createRng(5)
    const weights = initSharedWeights(50, 4, rng)
    weights.itemEmbedding[0] = Number.NaN
    const samples = buildSequenceSamples(
      [
        { type: 'click', row: 1 },
        { type: 'click', row: 0 },
      ],
      { numItems: 50, negativesPerTarget: 3, rng },
    )
    const before = tf.memory().numTensors
    await expect(
      trainSequence(tf, {
        weights,
        privateVector: initUserVector(4, rng),
        samples,
        epochs: 1,
        learningRate: 0.01,
        batchSize: 8,
        rng,
      }),
    ).rejects.toThrow(/diverged/)
    expect(tf.memory().numTensors).toBe(before)
  })
})
