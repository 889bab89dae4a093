import { ITEM_BIAS, ITEM_EMBEDDING, type TensorDelta } from '@fedrec/protocol'
import { beforeAll, describe, expect, it } from 'vitest'
import { ModelError } from './errors.ts'
import type { RowLookup } from './objective.ts'
import { createRng } from './rng.ts'
import { buildSamples, type RowEvent, type TrainingSamples } from './samples.ts'
import { useNodeBackend } from './test-backend-node.ts'
import { trainLocal } from './train-local.ts'
import { initSharedWeights, initUserVector, type SharedWeights } from './weights.ts'

const { tf } = await useNodeBackend()

const NUM_ITEMS = 60
const DIM = 8
/** The shopper likes rows 0..11, bought a few of them. */
const history: RowEvent[] = Array.from({ length: 12 }, (_, row) => ({
  type: row % 4 === 0 ? 'purchase' : 'click',
  row,
}))

function setup(seed = 1) {
  const rng = createRng(seed)
  const weights = initSharedWeights(NUM_ITEMS, DIM, rng)
  const userVector = initUserVector(DIM, rng)
  const samples = buildSamples(history, { numItems: NUM_ITEMS, negativesPerPositive: 4, rng })
  return { weights, userVector, samples }
}

function applyDeltas(w: SharedWeights, deltas: TensorDelta[]): SharedWeights {
  const out = { ...w, itemEmbedding: w.itemEmbedding.slice(), itemBias: w.itemBias.slice() }
  for (const d of deltas) {
    const target = d.name === ITEM_EMBEDDING ? out.itemEmbedding : out.itemBias
    d.rowIds.forEach((row, i) => {
      for (let c = 0; c < d.cols; c++) target[row * d.cols + c]! += d.values[i * d.cols + c]!
    })
  }
  return out
}

const score = (w: SharedWeights, u: Float32Array, row: number) =>
  u.reduce((s, x, c) => s + x * w.itemEmbedding[row * w.dim + c]!, w.itemBias[row]!)

/** Fraction of pairs whose positive outscores its negative (the pairwise AUC of the samples). */
function pairAccuracy(w: SharedWeights, u: Float32Array, s: TrainingSamples): number {
  let right = 0
  for (let i = 0; i < s.count; i++) if (score(w, u, s.positives[i]!) > score(w, u, s.negatives[i]!)) right++
  return right / s.count
}

const base = { epochs: 5, learningRate: 0.05, batchSize: 16 }

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
  return worst
}

describe('trainLocal', () => {
  beforeAll(() => {
    expect(tf.getBackend()).toBe('wasm')
  })

  for (const loss of ['bpr', 'logistic'] as const) {
    it(`learns to rank positives above negatives (${loss})`, async () => {
      const { weights, userVector, samples } = setup()
      const before = pairAccuracy(weights, userVector, samples)
      const r = await trainLocal(tf, { ...base, weights, userVector, samples, loss, rng: createRng(2) })
      const after = pairAccuracy(applyDeltas(weights, r.deltas), r.userVector, samples)
      expect(before).toBeLessThan(0.8)
      expect(after).toBeGreaterThan(0.95)
      expect(r.sampleCount).toBe(samples.count)
      expect(r.steps).toBe(5 * Math.ceil(samples.count / 16))
      expect(Number.isFinite(r.loss)).toBe(true)
    })
  }

  it('lowers the loss over rounds', async () => {
    let { weights, userVector, samples } = setup()
    const losses: number[] = []
    for (let round = 0; round < 4; round++) {
      const r = await trainLocal(tf, {
        ...base,
        epochs: 1,
        weights,
        userVector,
        samples,
        rng: createRng(round),
      })
      losses.push(r.loss)
      weights = applyDeltas(weights, r.deltas)
      userVector = r.userVector
      samples = buildSamples(history, {
        numItems: NUM_ITEMS,
        negativesPerPositive: 4,
        rng: createRng(10 + round),
      })
    }
    expect(losses[0]).toBeGreaterThan(0.6) // ≈ log 2 for near-zero initial scores
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]!)
  })

  it('returns deltas for exactly the touched rows, ascending, and leaves its inputs alone', async () => {
    const { weights, userVector, samples } = setup()
    const embeddingBefore = weights.itemEmbedding.slice()
    const userBefore = userVector.slice()
    const r = await trainLocal(tf, { ...base, weights, userVector, samples, rng: createRng(2) })
    const touched = [...new Set([...samples.positives, ...samples.negatives])].sort((a, b) => a - b)
    expect(r.deltas.map((d) => [d.name, d.cols])).toEqual([
      [ITEM_EMBEDDING, DIM],
      [ITEM_BIAS, 1],
    ])
    for (const d of r.deltas) {
      expect(Array.from(d.rowIds)).toEqual(touched)
      expect(d.values.length).toBe(touched.length * d.cols)
      expect(d.values.some((v) => v !== 0)).toBe(true)
    }
    expect(weights.itemEmbedding).toEqual(embeddingBefore)
    expect(userVector).toEqual(userBefore)
    expect(r.userVector).not.toEqual(userBefore)
  })

  it('keeps deltas much smaller under a huge FedProx mu', async () => {
    const { weights, userVector, samples } = setup()
    const norm = (deltas: TensorDelta[]) => Math.hypot(...deltas.flatMap((d) => Array.from(d.values)))
    const run = (mu: number) =>
      trainLocal(tf, { ...base, epochs: 10, weights, userVector, samples, mu, rng: createRng(2) })
    const free = norm((await run(0)).deltas)
    const held = norm((await run(1e4)).deltas)
    expect(held).toBeLessThan(free / 5)
  })

  it('is deterministic for a seed', async () => {
    const { weights, userVector, samples } = setup()
    const a = await trainLocal(tf, { ...base, weights, userVector, samples, rng: createRng(3) })
    const b = await trainLocal(tf, { ...base, weights, userVector, samples, rng: createRng(3) })
    expect(a).toEqual(b)
  })

  it('returns empty deltas without samples', async () => {
    const { weights, userVector } = setup()
    const samples = {
      positives: new Int32Array(0),
      negatives: new Int32Array(0),
      weights: new Float32Array(0),
      count: 0,
    }
    const r = await trainLocal(tf, { ...base, weights, userVector, samples, rng: createRng(1) })
    expect(r).toMatchObject({ sampleCount: 0, steps: 0, loss: 0 })
    expect(r.deltas.map((d) => d.rowIds.length)).toEqual([0, 0])
  })

  it('throws instead of returning NaN deltas, and refuses bad options', async () => {
    const { weights, userVector, samples } = setup()
    const poisoned = { ...weights, itemBias: weights.itemBias.map((b, i) => (i === 0 ? Number.NaN : b)) }
    const err = await trainLocal(tf, {
      ...base,
      weights: poisoned,
      userVector,
      samples,
      rng: createRng(1),
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ModelError)
    expect((err as ModelError).code).toBe('non_finite')
    await expect(
      trainLocal(tf, { ...base, learningRate: 0, weights, userVector, samples, rng: createRng(1) }),
    ).rejects.toThrow(/learningRate/)
    await expect(
      trainLocal(tf, { ...base, weights, userVector: new Float32Array(3), samples, rng: createRng(1) }),
    ).rejects.toThrow(/dim = 8/)
  })
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`gives the one-hot path's deltas and user vector with every lookup on ${backend}`, async () => {
      const { name } = await useNodeBackend([backend])
      try {
        expect(name).toBe(backend)
        const { weights, userVector, samples } = setup(6)
        // batchSize 20: three batches of 48 pairs, the last with 12 padding pairs; FedProx and L2 on.
        const run = (lookup: RowLookup, trainShared: boolean) =>
          trainLocal(tf, {
            ...base,
            batchSize: 20,
            mu: 0.1,
            l2: 1e-3,
            weights,
            userVector,
            samples,
            lookup,
            trainShared,
            rng: createRng(7),
          })
        for (const trainShared of [true, false]) {
          const oneHot = await run('one-hot', trainShared)
          if (trainShared) expect(oneHot.deltas[0]!.values.some((v) => Math.abs(v) > 1e-2)).toBe(true)
          for (const lookup of ['scatter', 'row-table'] as const) {
            const other = await run(lookup, trainShared)
            expect(other.steps).toBe(oneHot.steps)
            expect(other.loss).toBeCloseTo(oneHot.loss, 5)
            expect(maxDifference(other.userVector, oneHot.userVector)).toBeLessThan(1e-5)
            other.deltas.forEach((d, t) => {
              expect(Array.from(d.rowIds)).toEqual(Array.from(oneHot.deltas[t]!.rowIds))
              expect(maxDifference(d.values, oneHot.deltas[t]!.values)).toBeLessThan(1e-5)
            })
          }
        }
      } finally {
        await useNodeBackend()
      }
    })
  }

  it('with trainShared: false fits only the user vector to the fixed shared rows', async () => {
    const { weights, userVector, samples } = setup(4)
    const frozen = { embedding: weights.itemEmbedding.slice(), bias: weights.itemBias.slice() }
    const before = pairAccuracy(weights, userVector, samples)
    const r = await trainLocal(tf, {
      ...base,
      epochs: 30,
      weights,
      userVector,
      samples,
      trainShared: false,
      rng: createRng(5),
    })
    expect(r.deltas.every((d) => d.rowIds.length === 0 && d.values.length === 0)).toBe(true)
    expect(weights.itemEmbedding).toEqual(frozen.embedding)
    expect(weights.itemBias).toEqual(frozen.bias)
    // Scored against the unchanged global rows, the refitted vector ranks the shopper's items first.
    const after = pairAccuracy(weights, r.userVector, samples)
    expect(after).toBeGreaterThan(0.8)
    expect(after - before).toBeGreaterThan(0.1)
  })
})
