import { describe, expect, it } from 'vitest'
import { type BackendName, selectBackend } from './backend.ts'
import { type RowLookup, rowLookupFor } from './objective.ts'
import { createRng } from './rng.ts'
import { buildSamples, type RowEvent } from './samples.ts'
import { createScorer } from './scorer.ts'
import { tf } from './test-backend-browser.ts'
import { type LocalTrainingResult, trainLocal } from './train-local.ts'
import { initSharedWeights, initUserVector } from './weights.ts'

const NUM_ITEMS = 300
const DIM = 16
const history: RowEvent[] = Array.from({ length: 30 }, (_, i) => ({
  type: i % 5 === 0 ? 'purchase' : i % 3 === 0 ? 'add_to_cart' : 'click',
  row: (i * 37) % NUM_ITEMS,
}))

/** The same training run from the same seed, on whichever backend is active. */
async function trainOnce(lookup?: RowLookup, trainShared = true): Promise<LocalTrainingResult> {
  const rng = createRng(11)
  const weights = initSharedWeights(NUM_ITEMS, DIM, rng)
  const userVector = initUserVector(DIM, rng)
  const samples = buildSamples(history, { numItems: NUM_ITEMS, negativesPerPositive: 4, rng })
  return trainLocal(tf, {
    weights,
    userVector,
    samples,
    epochs: 3,
    learningRate: 0.01,
    batchSize: 32,
    mu: 0.01,
    l2: 1e-4,
    rng,
    trainShared,
    ...(lookup && { lookup }),
  })
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tolerance: number): void {
  expect(a.length).toBe(b.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
  expect(worst).toBeLessThan(tolerance)
}

describe('local training in a real browser', () => {
  it('gets WebGL when it is asked for first', async () => {
    expect(await selectBackend(tf, ['webgl', 'wasm', 'cpu'])).toBe('webgl')
  })

  it('gives the same deltas and user vector on webgl, wasm and cpu', async () => {
    const results = new Map<BackendName, LocalTrainingResult>()
    for (const backend of ['webgl', 'wasm', 'cpu'] as const) {
      expect(await selectBackend(tf, [backend])).toBe(backend)
      results.set(backend, await trainOnce())
    }
    const cpu = results.get('cpu')!
    expect(cpu.deltas[0]!.values.some((v) => Math.abs(v) > 1e-3)).toBe(true)
    for (const backend of ['webgl', 'wasm'] as const) {
      const other = results.get(backend)!
      expectClose(other.userVector, cpu.userVector, 1e-4)
      other.deltas.forEach((d, t) => {
        expect(Array.from(d.rowIds)).toEqual(Array.from(cpu.deltas[t]!.rowIds))
        expectClose(d.values, cpu.deltas[t]!.values, 1e-4)
      })
      expect(other.loss).toBeCloseTo(cpu.loss, 3)
    }
  })

  it("gives the one-hot path's deltas with every lookup on WebGL, to float rounding", async () => {
    expect(await selectBackend(tf, ['webgl'])).toBe('webgl')
    expect(rowLookupFor(tf.getBackend())).toBe('row-table')
    for (const trainShared of [true, false]) {
      const oneHot = await trainOnce('one-hot', trainShared)
      if (trainShared) expect(oneHot.deltas[0]!.values.some((v) => Math.abs(v) > 1e-3)).toBe(true)
      for (const lookup of ['scatter', 'row-table'] as const) {
        const other = await trainOnce(lookup, trainShared)
        expectClose(other.userVector, oneHot.userVector, 1e-5)
        other.deltas.forEach((d, t) => {
          expect(Array.from(d.rowIds)).toEqual(Array.from(oneHot.deltas[t]!.rowIds))
          expectClose(d.values, oneHot.deltas[t]!.values, 1e-5)
        })
        expect(other.loss).toBeCloseTo(oneHot.loss, 5)
      }
    }
  })

  it('scores the same top items on every backend and leaks no tensors on WebGL', async () => {
    const rng = createRng(2)
    const weights = initSharedWeights(NUM_ITEMS, DIM, rng)
    const user = initUserVector(DIM, rng)
    const tops: number[][] = []
    for (const backend of ['cpu', 'wasm', 'webgl'] as const) {
      await selectBackend(tf, [backend])
      const scorer = createScorer(tf, weights)
      tops.push((await scorer.topK(user, 10, new Set([0, 1]))).map((s) => s.row))
      scorer.dispose()
    }
    expect(tops[1]).toEqual(tops[0])
    expect(tops[2]).toEqual(tops[0])

    await trainOnce() // warm-up on WebGL, the backend left active above
    const before = tf.memory().numTensors
    for (let i = 0; i < 3; i++) {
      const r = await trainOnce()
      const scorer = createScorer(tf, weights)
      await scorer.topK(r.userVector, 5)
      await scorer.similarRows(3, 5)
      scorer.dispose()
    }
    expect(tf.getBackend()).toBe('webgl')
    expect(tf.memory().numTensors).toBe(before)
  })
})
