import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
// Only this test needs tfjs's autodiff: it is the reference the hand-written gradients are checked against.
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { type LossKind, type ObjectiveInputs, objectiveGradients, type RowLookup } from './objective.ts'
import { createRng } from './rng.ts'
import { buildRowTables } from './row-table.ts'

/**
 * J written with plain differentiable ops (gather is fine here: autodiff on CPU, a handful of rows).
 * log(sigmoid) rather than tf.logSigmoid: the latter's custom gradient fails inside tf.grads here.
 */
function objectiveValue(x: ObjectiveInputs): tf.Scalar {
  const scores = tf.add(tf.matMul(x.embedding, x.user, false, true), x.bias)
  const sPos = tf.gather(scores, x.positives)
  const sNeg = tf.gather(scores, x.negatives)
  const perPair =
    x.loss === 'bpr'
      ? tf.neg(tf.log(tf.sigmoid(tf.sub(sPos, sNeg))))
      : tf.neg(tf.add(tf.log(tf.sigmoid(sPos)), tf.log(tf.sub(1, tf.sigmoid(sNeg)))))
  let value: tf.Tensor = tf.div(tf.sum(tf.mul(perPair, x.weights)), x.totalWeight)
  const half = (t: tf.Tensor, k: number) => tf.mul(tf.sum(tf.square(t)), k / 2)
  value = tf.add(value, tf.add(half(x.embedding, x.l2), half(x.user, x.l2)))
  if (x.globalEmbedding && x.globalBias) {
    value = tf.add(
      value,
      tf.add(half(tf.sub(x.embedding, x.globalEmbedding), x.mu), half(tf.sub(x.bias, x.globalBias), x.mu)),
    )
  }
  return value as tf.Scalar
}

const LOOKUPS: readonly RowLookup[] = ['one-hot', 'scatter', 'row-table']

function randomInputs(
  loss: LossKind,
  l2: number,
  mu: number,
  lookup: RowLookup = 'one-hot',
): ObjectiveInputs {
  const rng = createRng(5)
  const [S, d, B] = [6, 4, 9]
  const normal = (n: number, scale: number) => Array.from({ length: n }, () => rng.normal() * scale)
  const weights = Array.from({ length: B }, (_, i) => (i === B - 1 ? 0 : 1 + rng.int(4)))
  // Positives among rows 0–2, negatives among 3–4: rows repeat within the batch and row 5 is never touched.
  const positives = Int32Array.from({ length: B }, () => rng.int(3))
  const negatives = Int32Array.from({ length: B }, () => 3 + rng.int(2))
  const table = buildRowTables(positives, negatives, { batches: 1, batch: B, rows: S, count: B })
  return {
    embedding: tf.tensor2d(normal(S * d, 0.5), [S, d]),
    bias: tf.tensor2d(normal(S, 0.5), [S, 1]),
    user: tf.tensor2d(normal(d, 0.5), [1, d]),
    positives: tf.tensor1d(positives, 'int32'),
    negatives: tf.tensor1d(negatives, 'int32'),
    weights: tf.tensor2d(weights, [B, 1]),
    totalWeight: weights.reduce((a, b) => a + b, 0),
    lookup,
    rowTable: tf.tensor2d(table.values, [S, table.width], 'int32'),
    loss,
    l2,
    mu,
    globalEmbedding: tf.tensor2d(normal(S * d, 0.5), [S, d]),
    globalBias: tf.tensor2d(normal(S, 0.5), [S, 1]),
  }
}

describe('objectiveGradients', () => {
  beforeAll(async () => {
    expect(await tf.setBackend('cpu')).toBe(true)
  })

  for (const [loss, l2, mu] of [
    ['bpr', 0, 0],
    ['bpr', 0.1, 2],
    ['logistic', 0, 0],
    ['logistic', 0.05, 0.5],
  ] as const) {
    for (const lookup of LOOKUPS) {
      it(`matches autodiff for ${loss}, l2 ${l2}, mu ${mu}, lookup ${lookup}`, () => {
        tf.tidy(() => {
          const x = randomInputs(loss, l2, mu, lookup)
          const mine = objectiveGradients(tf, x)
          const reference = tf.grads((embedding, bias, user) =>
            objectiveValue({
              ...x,
              embedding: embedding as tf.Tensor2D,
              bias: bias as tf.Tensor2D,
              user: user as tf.Tensor2D,
            }),
          )([x.embedding, x.bias, x.user])
          const close = (a: tf.Tensor | undefined, b: tf.Tensor | undefined) =>
            Array.from(a!.dataSync()).forEach((v, i) => {
              expect(v).toBeCloseTo(b!.dataSync()[i]!, 5)
            })
          close(mine.embedding, reference[0])
          close(mine.bias, reference[1])
          close(mine.user, reference[2])
          // Row 5 is in no pair: its data gradient is 0, whatever the lookup.
          if (l2 === 0 && mu === 0) expect(mine.bias!.dataSync()[5]).toBe(0)
          const meanLoss = mine.weightedLossSum.dataSync()[0]! / x.totalWeight
          const regs = objectiveValue({ ...x, loss, weights: tf.zerosLike(x.weights) }).dataSync()[0]!
          expect(meanLoss).toBeCloseTo(objectiveValue(x).dataSync()[0]! - regs, 5)
        })
      })
    }
  }

  /** Every gradient and the loss, flat, for one lookup on the active backend. */
  const gradientsOf = (lookup: RowLookup, sharedGradients = true) =>
    tf.tidy(() => {
      const g = objectiveGradients(tf, { ...randomInputs('bpr', 0.1, 1, lookup), sharedGradients })
      return [g.embedding, g.bias, g.user, g.weightedLossSum].map((t) => (t ? Array.from(t.dataSync()) : []))
    })

  for (const backend of ['wasm', 'cpu']) {
    it(`gives the one-hot gradients with every lookup on ${backend}, to float rounding`, async () => {
      expect(await tf.setBackend(backend)).toBe(true)
      const oneHot = gradientsOf('one-hot').flat()
      expect(oneHot.some((v) => v !== 0)).toBe(true)
      for (const lookup of ['scatter', 'row-table'] as const) {
        const other = gradientsOf(lookup).flat()
        expect(other.length).toBe(oneHot.length)
        other.forEach((v, i) => {
          expect(Math.abs(v - oneHot[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(oneHot[i]!)))
        })
      }
    })
  }

  it('leaves the slice gradients out, and the user gradient as it is, without sharedGradients', async () => {
    expect(await tf.setBackend('cpu')).toBe(true)
    for (const lookup of LOOKUPS) {
      const [embedding, bias, user, loss] = gradientsOf(lookup, false)
      const all = gradientsOf(lookup)
      expect(embedding).toEqual([])
      expect(bias).toEqual([])
      expect(user).toEqual(all[2])
      expect(loss).toEqual(all[3])
    }
  })

  it('says which row table is missing or does not fit', async () => {
    expect(await tf.setBackend('cpu')).toBe(true)
    tf.tidy(() => {
      const x = randomInputs('bpr', 0, 0, 'row-table')
      expect(() => objectiveGradients(tf, { ...x, rowTable: undefined })).toThrow(/needs rowTable/)
      const short = tf.zeros([3, 4], 'int32') as tf.Tensor2D
      expect(() => objectiveGradients(tf, { ...x, rowTable: short })).toThrow(/3 rows, not 6/)
    })
  })

  it('gives the same gradients on WASM as on CPU', async () => {
    const on = async (backend: string) => {
      expect(await tf.setBackend(backend)).toBe(true)
      return LOOKUPS.flatMap((lookup) => gradientsOf(lookup).flat())
    }
    const wasm = await on('wasm')
    const cpu = await on('cpu')
    expect(wasm.some((v) => v !== 0)).toBe(true)
    wasm.forEach((v, i) => {
      expect(v).toBeCloseTo(cpu[i]!, 5)
    })
  })
})
