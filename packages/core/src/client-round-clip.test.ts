// DP-FedAvg's client side: a round config with clipNorm makes trainClientRound upload a clipped update.
import { describe, expect, it } from 'vitest'
import { trainClientRound } from './client-round.ts'
import { deltasNorm } from './privacy/clip.ts'
import { createRng } from './rng.ts'
import type { RowEvent } from './samples.ts'
import { useNodeBackend } from './test-backend-node.ts'
import { initSharedWeights, initUserVector } from './weights.ts'

const { tf } = await useNodeBackend()

const events: RowEvent[] = Array.from({ length: 12 }, (_, row) => ({ type: 'purchase', row }))
const config = { mu: 0, localEpochs: 3, learningRate: 0.1, negativesPerPositive: 2, batchSize: 16 }

async function round(clipNorm?: number) {
  const rng = createRng(4)
  const weights = initSharedWeights(50, 8, rng)
  return trainClientRound(tf, {
    weights,
    userVector: initUserVector(8, rng),
    events,
    config: clipNorm === undefined ? config : { ...config, clipNorm },
    rng: createRng(11),
  })
}

describe('trainClientRound with a DP clip norm', () => {
  it('scales the upload to the clip norm, keeping its direction, rows and sample count', async () => {
    const free = await round()
    const norm = deltasNorm(free.result.deltas)
    expect(norm).toBeGreaterThan(0.1)
    const clipped = await round(0.1)
    expect(deltasNorm(clipped.result.deltas)).toBeCloseTo(0.1, 5)
    expect(clipped.result.sampleCount).toBe(free.result.sampleCount)
    const scale = 0.1 / norm
    for (const [t, delta] of clipped.result.deltas.entries()) {
      const original = free.result.deltas[t]!
      expect(delta.rowIds).toEqual(original.rowIds)
      for (let i = 0; i < delta.values.length; i++)
        expect(delta.values[i]).toBeCloseTo(original.values[i]! * scale, 6)
    }
    // The device's own vector is not the upload: clipping does not touch it.
    expect(clipped.userVector).toEqual(free.userVector)
  })

  it('leaves an update within the bound as it is', async () => {
    const free = await round()
    const loose = await round(1e6)
    expect(loose.result.deltas).toEqual(free.result.deltas)
  })
})
