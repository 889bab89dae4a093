import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
// The reference the hand-written gradients are checked against needs tfjs's autodiff (as objective.test.ts).
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { createRng } from './rng.ts'
import type { RowEvent } from './samples.ts'
import { buildSequenceSamples, sequenceQuery } from './sequence.ts'
import { type SequenceStepInputs, sequenceGradients } from './sequence-gradients.ts'
import { buildSumTables } from './sequence-sum-tables.ts'
import { trainSequence } from './train-sequence.ts'
import { initSharedWeights, type SharedWeights } from './weights.ts'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

interface Case {
  /** Target t: positive row, K negative rows, context rows and weights. */
  pos: number[]
  neg: number[][]
  ctx: number[][]
  alpha: number[][]
  weights: number[]
}

/** J of `sequenceGradients`, written with plain differentiable ops: dense context matrix and dense scores. */
function objectiveValue(
  c: Case,
  S: number,
  v: {
    embedding: tf.Tensor
    bias: tf.Tensor
    user: tf.Tensor
    l2: number
    mu: number
    e0: tf.Tensor
    b0: tf.Tensor
    /** The table the scores read, when it is not `embedding`/`bias` (item features: E + M·F, b + M·g). */
    scored?: { embedding: tf.Tensor; bias: tf.Tensor }
    /** The table the negatives' scores read, when it is not the positives' one. */
    negativesScored?: { embedding: tf.Tensor; bias: tf.Tensor }
  },
): tf.Scalar {
  const read = v.scored ?? v
  const readNegatives = v.negativesScored ?? read
  const dense = c.pos.flatMap((_, t) => {
    const row = new Array<number>(S).fill(0)
    c.ctx[t]!.forEach((r, j) => {
      row[r]! += c.alpha[t]![j]!
    })
    return row
  })
  const query = tf.add(tf.matMul(tf.tensor2d(dense, [c.pos.length, S]), read.embedding), v.user)
  const scoresOf = (table: { embedding: tf.Tensor; bias: tf.Tensor }) =>
    tf.add(tf.matMul(query, table.embedding, false, true), tf.reshape(table.bias, [1, S]))
  const [scores, negativeScores] = [scoresOf(read), scoresOf(readNegatives)]
  const cell = (of: tf.Tensor, t: number, r: number) => tf.reshape(tf.slice(of, [t, r], [1, 1]), [])
  const losses: tf.Tensor[] = []
  c.pos.forEach((p, t) => {
    for (const n of c.neg[t]!) {
      const margin = tf.sub(cell(scores, t, p), cell(negativeScores, t, n))
      losses.push(tf.mul(tf.neg(tf.log(tf.sigmoid(margin))), c.weights[t]!))
    }
  })
  const total = c.weights.reduce((a, b) => a + b, 0) * c.neg[0]!.length
  const half = (t: tf.Tensor, k: number) => tf.mul(tf.sum(tf.square(t)), k / 2)
  return tf.addN([
    tf.div(tf.addN(losses), total),
    half(v.embedding, v.l2),
    half(v.user, v.l2),
    half(tf.sub(v.embedding, v.e0), v.mu),
    half(tf.sub(v.bias, v.b0), v.mu),
  ]) as tf.Scalar
}

/** Same shape, every value equal to 5 decimals. */
function close(a: tf.Tensor, b: tf.Tensor): void {
  const [p, q] = [a.dataSync(), b.dataSync()]
  expect(p.length).toBe(q.length)
  for (const [i, value] of p.entries()) expect(value).toBeCloseTo(q[i]!, 5)
}

describe('sequenceGradients', () => {
  it.each(['scatter', 'row-table', 'one-hot'] as const)(
    'equals tf.grads of the objective written with plain ops, summing rows by %s',
    (lookup) => {
      const rng = createRng(3)
      const [S, d, K] = [7, 3, 2]
      const normal = (n: number) => Array.from({ length: n }, () => rng.normal() * 0.5)
      // Three targets and a padding one (weight 0, no context); rows repeat across reads on purpose.
      const c: Case = {
        pos: [0, 1, 2, 0],
        neg: [
          [3, 4],
          [5, 6],
          [3, 6],
          [0, 0],
        ],
        ctx: [[1, 2], [0], [0, 1, 3], []],
        alpha: [[0.25, 0.75], [1], [0.2, 0.3, 0.5], []],
        weights: [1, 4, 2, 0],
      }
      const B = c.pos.length
      const pool = c.ctx.flatMap((r, t) => {
        const row = new Array<number>(S).fill(0)
        r.forEach((j, n) => {
          row[j]! += c.alpha[t]![n]!
        })
        return row
      })
      const reads = Int32Array.from([
        ...c.pos.map((p, t) => (t < 3 ? p : -1)),
        ...c.neg.flatMap((n, t) => (t < 3 ? n : [-1, -1])),
      ])
      const table = buildSumTables(reads, { batches: 1, reads: reads.length, rows: S })
      const v = {
        embedding: tf.tensor2d(normal(S * d), [S, d]),
        bias: tf.tensor2d(normal(S), [S, 1]),
        user: tf.tensor2d(normal(d), [1, d]),
        l2: 0.1,
        mu: 0.3,
        e0: tf.tensor2d(normal(S * d), [S, d]),
        b0: tf.tensor2d(normal(S), [S, 1]),
      }
      const x: SequenceStepInputs = {
        embedding: v.embedding as tf.Tensor2D,
        bias: v.bias as tf.Tensor2D,
        user: v.user as tf.Tensor2D,
        positives: tf.tensor1d(c.pos, 'int32'),
        negatives: tf.tensor1d(c.neg.flat(), 'int32'),
        pool: tf.tensor2d(pool, [B, S]),
        poolT: tf.transpose(tf.tensor2d(pool, [B, S])) as tf.Tensor2D,
        weights: tf.tensor2d(c.weights, [B, 1]),
        totalWeight: K * c.weights.reduce((a, b) => a + b, 0),
        lookup,
        sumTable: tf.tensor2d(table.values, [S, table.width], 'int32'),
        l2: v.l2,
        mu: v.mu,
        globalEmbedding: v.e0 as tf.Tensor2D,
        globalBias: v.b0 as tf.Tensor2D,
      }
      const mine = sequenceGradients(tf, x)
      const [gE, gB, gU] = tf.grads((embedding: tf.Tensor, bias: tf.Tensor, user: tf.Tensor) =>
        objectiveValue(c, S, { ...v, embedding, bias, user }),
      )([v.embedding, v.bias, v.user])
      close(mine.embedding, gE!)
      close(mine.bias, gB!)
      close(mine.user!, gU!)
      const data = objectiveValue(c, S, { ...v, l2: 0, mu: 0 }).dataSync()[0]!
      expect(mine.weightedLossSum.dataSync()[0]! / x.totalWeight).toBeCloseTo(data - 0, 5)
    },
  )

  it.each([
    [false, 'V = E + M·F, c = b + M·g'],
    [true, 'V = E + M·F, c = b + M·g, the negatives reading E and b as constants'],
  ])(
    'with item features and negativesOnFeatures %s, equals tf.grads of the objective on %s',
    (negativesOnFeatures) => {
      const rng = createRng(8)
      const [S, Sf, d] = [5, 3, 2]
      const normal = (n: number) => Array.from({ length: n }, () => rng.normal() * 0.5)
      const c: Case = {
        pos: [0, 1],
        neg: [
          [3, 4],
          [2, 0],
        ],
        ctx: [[1, 2], [3]],
        alpha: [[0.4, 0.6], [1]],
        weights: [1, 2],
      }
      const pool = [0, 0.4, 0.6, 0, 0, 0, 0, 0, 1, 0]
      // Item 0: features 0 and 2 (mean); item 1: feature 1; items 2, 4: none; item 3: feature 2.
      const mix = tf.tensor2d([0.5, 0, 0.5, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], [S, Sf])
      const [l2, mu] = [0.1, 0.3]
      const v = {
        embedding: tf.tensor2d(normal(S * d), [S, d]),
        bias: tf.tensor2d(normal(S), [S, 1]),
        user: tf.tensor2d(normal(d), [1, d]),
        e0: tf.tensor2d(normal(S * d), [S, d]),
        b0: tf.tensor2d(normal(S), [S, 1]),
      }
      const f = {
        embedding: tf.tensor2d(normal(Sf * d), [Sf, d]),
        bias: tf.tensor2d(normal(Sf), [Sf, 1]),
        globalEmbedding: tf.tensor2d(normal(Sf * d), [Sf, d]),
        globalBias: tf.tensor2d(normal(Sf), [Sf, 1]),
      }
      const mine = sequenceGradients(tf, {
        embedding: v.embedding,
        bias: v.bias,
        user: v.user,
        positives: tf.tensor1d(c.pos, 'int32'),
        negatives: tf.tensor1d(c.neg.flat(), 'int32'),
        pool: tf.tensor2d(pool, [2, S]),
        poolT: tf.transpose(tf.tensor2d(pool, [2, S])) as tf.Tensor2D,
        weights: tf.tensor2d(c.weights, [2, 1]),
        totalWeight: 2 * 3,
        lookup: 'scatter',
        l2,
        mu,
        globalEmbedding: v.e0,
        globalBias: v.b0,
        features: { ...f, mix, mixT: tf.transpose(mix) as tf.Tensor2D },
        negativesOnFeatures,
      })
      // The negatives' E and b as constants: copies tf.grads does not differentiate by.
      const [fixedE, fixedB] = [tf.clone(v.embedding), tf.clone(v.bias)]
      const half = (t: tf.Tensor, k: number) => tf.mul(tf.sum(tf.square(t)), k / 2)
      const grads = tf.grads(
        (embedding: tf.Tensor, bias: tf.Tensor, fe: tf.Tensor, fb: tf.Tensor) =>
          tf.addN([
            objectiveValue(c, S, {
              ...v,
              embedding,
              bias,
              l2,
              mu,
              scored: {
                embedding: tf.add(embedding, tf.matMul(mix, fe)),
                bias: tf.add(bias, tf.matMul(mix, fb)),
              },
              ...(negativesOnFeatures && {
                negativesScored: {
                  embedding: tf.add(fixedE, tf.matMul(mix, fe)),
                  bias: tf.add(fixedB, tf.matMul(mix, fb)),
                },
              }),
            }),
            half(fe, l2),
            half(tf.sub(fe, f.globalEmbedding), mu),
            half(tf.sub(fb, f.globalBias), mu),
          ]) as tf.Scalar,
      )([v.embedding, v.bias, f.embedding, f.bias])
      close(mine.embedding, grads[0]!)
      close(mine.bias, grads[1]!)
      close(mine.features!.embedding, grads[2]!)
      close(mine.features!.bias, grads[3]!)
      // Not trivially equal: feature 1 is read only through item 1, and its gradient is not zero.
      expect(Math.abs(mine.features!.embedding.dataSync()[2]!)).toBeGreaterThan(0)
    },
  )
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

  it('moves a row drawn only as a negative in proportion to its weak gradient, not as far as the trained rows', async () => {
    // Adam's first steps move every coordinate about lr·g/(|g| + ε): with a tiny ε a row sampled once as a
    // negative would move as far as the shopper's own items, and in a small catalogue those rows end up
    // outscoring the shopper's taste (ADAM_EPSILON).
    const weights = initSharedWeights(240, 16, createRng(4))
    const own = Array.from({ length: 12 }, (_, i) => i)
    const samples = buildSequenceSamples(
      own.map((row) => ({ type: 'click', row })),
      { numItems: 240, negativesPerTarget: 4, rng: createRng(5) },
    )
    const r = await trainSequence(tf, {
      weights,
      samples,
      epochs: 2,
      learningRate: 0.2,
      batchSize: 256,
      rng: createRng(6),
    })
    const { rowIds, values } = r.deltas[0]!
    const norms = new Map(
      [...rowIds].map((row, i) => [row, Math.hypot(...values.subarray(i * 16, (i + 1) * 16))]),
    )
    const mean = (rows: number[]) => rows.reduce((a, row) => a + norms.get(row)!, 0) / rows.length
    const negativeOnly = [...rowIds].filter((row) => row >= own.length)
    expect(negativeOnly.length).toBeGreaterThan(20)
    expect(mean(negativeOnly)).toBeLessThan(0.75 * mean(own)) // 1.01 × with ε = 1e-7, 0.57 × with 1e-3
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
