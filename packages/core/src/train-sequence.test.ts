import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
// The reference the hand-written gradients are checked against needs tfjs's autodiff (as objective.test.ts).
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { createRng } from './rng.ts'
import type { RowEvent } from './samples.ts'
import { buildSequenceSamples, sequenceQuery } from './sequence.ts'
import { type SequenceStepInputs, sequenceGradients, trainSequence } from './train-sequence.ts'
import { initSharedWeights, type SharedWeights } from './weights.ts'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

/** J of `sequenceGradients`, written with plain differentiable ops and gathers from a dense score matrix. */
function objectiveValue(x: SequenceStepInputs, pos: number[][], neg: number[][]): tf.Scalar {
  const pooled = tf.matMul(x.contexts, x.embedding)
  const query = x.user ? tf.add(pooled, x.user) : pooled
  const scores = tf.add(tf.matMul(query, x.embedding, false, true), x.bias)
  const pick = (cells: number[][]) =>
    tf.stack(cells.map(([t, row]) => tf.reshape(tf.slice(scores, [t!, row!], [1, 1]), [])))
  const k = neg.length / pos.length
  const sPos = tf.reshape(tf.tile(tf.reshape(pick(pos), [-1, 1]), [1, k]), [-1])
  const sNeg = pick(neg)
  const w = tf.reshape(tf.tile(x.weights, [1, k]), [-1])
  let value: tf.Tensor = tf.div(
    tf.sum(tf.mul(tf.neg(tf.log(tf.sigmoid(tf.sub(sPos, sNeg)))), w)),
    x.totalWeight,
  )
  const half = (t: tf.Tensor, c: number) => tf.mul(tf.sum(tf.square(t)), c / 2)
  value = tf.add(value, half(x.embedding, x.l2))
  if (x.user) value = tf.add(value, half(x.user, x.l2))
  if (x.globalEmbedding && x.globalBias) {
    value = tf.add(value, half(tf.sub(x.embedding, x.globalEmbedding), x.mu))
    value = tf.add(value, half(tf.sub(x.bias, x.globalBias), x.mu))
  }
  return value as tf.Scalar
}

describe('sequenceGradients', () => {
  it('equals tf.grads of the objective written with plain ops (contexts, private vector, L2, FedProx)', () => {
    const rng = createRng(3)
    const [S, d, B, K] = [7, 3, 3, 2]
    const normal = (n: number) => Array.from({ length: n }, () => rng.normal() * 0.5)
    // Target t: positive row t, negatives 4 + t and 6 - t … distinct per target; contexts over rows 0–3.
    const pos = [0, 1, 2].map((t) => [t, t])
    const neg = [0, 1, 2].flatMap((t) => [
      [t, 3 + t],
      [t, 6 - (t === 1 ? 0 : t)],
    ])
    const gradientAt = new Int32Array(B * S)
    pos.forEach(([t, row]) => {
      gradientAt[t! * S + row!] = 1 + t!
    })
    neg.forEach(([t, row], j) => {
      gradientAt[t! * S + row!] = 1 + B + j
    })
    const contexts = [0.5, 0.5, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0.2, 0.3, 0, 0.5, 0, 0, 0]
    const weights = [1, 4, 2]
    const x: SequenceStepInputs = {
      embedding: tf.tensor2d(normal(S * d), [S, d]),
      bias: tf.tensor2d(normal(S), [1, S]),
      user: tf.tensor2d(normal(d), [1, d]),
      contexts: tf.tensor2d(contexts, [B, S]),
      positiveAt: tf.tensor1d(
        pos.map(([t, r]) => t! * S + r!),
        'int32',
      ),
      negativeAt: tf.tensor1d(
        neg.map(([t, r]) => t! * S + r!),
        'int32',
      ),
      weights: tf.tensor2d(weights, [B, 1]),
      gradientAt: tf.tensor1d(gradientAt, 'int32'),
      totalWeight: K * weights.reduce((a, b) => a + b, 0),
      l2: 0.1,
      mu: 0.3,
      globalEmbedding: tf.tensor2d(normal(S * d), [S, d]),
      globalBias: tf.tensor2d(normal(S), [1, S]),
    }
    const mine = sequenceGradients(tf, x)
    const [gE, gB, gU] = tf.grads((e: tf.Tensor, b: tf.Tensor, u: tf.Tensor) =>
      objectiveValue(
        { ...x, embedding: e as tf.Tensor2D, bias: b as tf.Tensor2D, user: u as tf.Tensor2D },
        pos,
        neg,
      ),
    )([x.embedding, x.bias, x.user!])
    const close = (a: tf.Tensor, b: tf.Tensor) => {
      const [p, q] = [a.dataSync(), b.dataSync()]
      expect(p.length).toBe(q.length)
      for (const [i, v] of p.entries()) expect(v).toBeCloseTo(q[i]!, 5)
    }
    close(mine.embedding, gE!)
    close(mine.bias, gB!)
    close(mine.user!, gU!)
    const data = objectiveValue(
      { ...x, l2: 0, mu: 0, globalEmbedding: undefined, globalBias: undefined } as never,
      pos,
      neg,
    )
    expect(mine.weightedLossSum.dataSync()[0]! / x.totalWeight).toBeCloseTo(data.dataSync()[0]!, 5)
  })
})

const GROUPS = 8
const PER_GROUP = 4

/**
 * Shoppers who browse one group of items and then another: 3 items of group A in random order, then 2 of B.
 * Every item is about equally popular; what comes next depends on which group the shopper is in *now*.
 */
function twoGroupHistories(shoppers: number, seed: number) {
  const rng = createRng(seed)
  const pick = (group: number, n: number) => {
    const items = Array.from({ length: PER_GROUP }, (_, i) => group * PER_GROUP + i)
    for (let i = 0; i < n; i++) {
      const j = i + rng.int(PER_GROUP - i)
      ;[items[i], items[j]] = [items[j]!, items[i]!]
    }
    return items.slice(0, n)
  }
  return Array.from({ length: shoppers }, () => {
    const a = rng.int(GROUPS)
    const b = (a + 1 + rng.int(GROUPS - 1)) % GROUPS
    const rows = [...pick(a, 3), ...pick(b, 2)]
    return { b, events: rows.map((row): RowEvent => ({ type: 'click', row })) }
  })
}

describe('trainSequence', () => {
  it('returns deltas of exactly the touched rows, leaves the model and no tensors behind', async () => {
    const weights = initSharedWeights(50, 4, createRng(1))
    const before = weights.itemEmbedding.slice()
    const samples = buildSequenceSamples(
      [1, 7, 3].map((row) => ({ type: 'click', row })),
      { numItems: 50, negativesPerTarget: 3, rng: createRng(2) },
    )
    const tensors = tf.memory().numTensors
    const r = await trainSequence(tf, {
      weights,
      samples,
      epochs: 2,
      learningRate: 0.1,
      batchSize: 4,
      rng: createRng(3),
    })
    expect(tf.memory().numTensors).toBe(tensors)
    expect(weights.itemEmbedding).toEqual(before)
    const touched = [...new Set([1, 7, 3, ...samples.negatives])].sort((a, b) => a - b)
    expect([...r.deltas[0]!.rowIds]).toEqual(touched)
    expect([...r.deltas[1]!.rowIds]).toEqual(touched)
    expect(r.sampleCount).toBe(6)
    expect(r.steps).toBe(2 * 2) // 2 targets, one per step (batch 4 ÷ 3 negatives), two epochs
    expect(r.deltas[1]!.values.some((v) => v !== 0)).toBe(true)
    await expect(
      trainSequence(tf, { weights, samples, epochs: 0, learningRate: 0.1, batchSize: 4, rng: createRng(3) }),
    ).rejects.toThrow(/epochs must be an integer >= 1/)
  })

  it('learns what comes next and that the newest items matter most, where popularity is at chance', async () => {
    const numItems = GROUPS * PER_GROUP
    const dim = 8
    let weights: SharedWeights = initSharedWeights(numItems, dim, createRng(5))
    const rng = createRng(6)
    // Shoppers one after another, each update applied at once: sequential federated rounds of one shopper.
    for (const { events } of twoGroupHistories(200, 4)) {
      const samples = buildSequenceSamples(events, { numItems, negativesPerTarget: 4, rng })
      const r = await trainSequence(tf, {
        weights,
        samples,
        epochs: 2,
        learningRate: 0.1,
        batchSize: 64,
        rng,
      })
      const e = weights.itemEmbedding.slice()
      const b = weights.itemBias.slice()
      const [de, db] = r.deltas
      de!.rowIds.forEach((row, i) => {
        for (let c = 0; c < dim; c++) e[row * dim + c]! += de!.values[i * dim + c]!
        b[row]! += db!.values[i]!
      })
      weights = { ...weights, itemEmbedding: e, itemBias: b }
    }
    // New shoppers: is the best item they have not seen one of group B's two remaining items?
    const inGroupB = (recency: number) => {
      let hits = 0
      const fresh = twoGroupHistories(100, 99)
      for (const { b, events } of fresh) {
        const seen = new Set(events.map((e) => e.row))
        const q = sequenceQuery(weights, events, { settings: { contextLength: 20, recency } })
        let best = -1
        let bestScore = Number.NEGATIVE_INFINITY
        for (let row = 0; row < numItems; row++) {
          if (seen.has(row)) continue
          let s = weights.itemBias[row]!
          for (let c = 0; c < dim; c++) s += q[c]! * weights.itemEmbedding[row * dim + c]!
          if (s > bestScore) [best, bestScore] = [row, s]
        }
        if (Math.floor(best / PER_GROUP) === b) hits += 1
      }
      return hits / fresh.length
    }
    // Chance: 2 of the 27 unseen items (0.07); group A has 1 unseen item, group B 2.
    const recent = inGroupB(0.7)
    const orderBlind = inGroupB(1)
    // Measured 0.80 and 0.35 (deterministic: seeded, CPU backend).
    expect(recent).toBeGreaterThan(0.7)
    expect(recent).toBeGreaterThan(orderBlind + 0.3)
  })
})
