import { ITEM_BIAS, ITEM_EMBEDDING, type TensorDelta } from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { createAccumulator, type RowNormalization } from '../aggregation/index.ts'
import { createRng, type Rng } from '../rng.ts'
import {
  DEFAULT_SECAGG_QUANTIZATION,
  decodeSecAggSum,
  encodeSecAggVector,
  secAggAggregate,
  secAggVectorLength,
} from './vector.ts'

const NUM_ITEMS = 40
const DIM = 4

function randomUpdate(rng: Rng): { sampleCount: number; tensors: TensorDelta[] } {
  const rows: number[] = []
  for (let r = 0; r < NUM_ITEMS; r++) if (rng.next() < 0.25) rows.push(r)
  const rowIds = Uint32Array.from(rows)
  const bias = Float32Array.from(rows, () => rng.normal() * 0.05)
  const emb = Float32Array.from({ length: rows.length * DIM }, () => rng.normal() * 0.05)
  return {
    sampleCount: 1 + rng.int(300),
    tensors: [
      { name: ITEM_BIAS, cols: 1, rowIds, values: bias },
      { name: ITEM_EMBEDDING, cols: DIM, rowIds, values: emb },
    ],
  }
}

function sumVectors(vectors: Uint32Array[]): Uint32Array {
  const sum = new Uint32Array(vectors[0]!.length)
  for (const v of vectors) for (let i = 0; i < v.length; i++) sum[i] = sum[i]! + v[i]!
  return sum
}

const shapes = [
  { name: ITEM_BIAS, rows: NUM_ITEMS, cols: 1 },
  { name: ITEM_EMBEDDING, rows: NUM_ITEMS, cols: DIM },
]

describe('secagg vector layout', () => {
  it('has 1 + numItems·(2 + dim) elements: 57,189 for ML-100K at d=32', () => {
    expect(secAggVectorLength(1682, 32)).toBe(57189)
    expect(secAggVectorLength(NUM_ITEMS, DIM)).toBe(1 + NUM_ITEMS * 6)
  })

  it('decodes the sum of 20 encoded updates to Σn_k, Σn_k per touched row and Σn_k·Δ', () => {
    const rng = createRng(11)
    const updates = Array.from({ length: 20 }, () => randomUpdate(rng))
    const vectors = updates.map(
      (u) =>
        encodeSecAggVector({ deltas: u.tensors, weight: u.sampleCount, numItems: NUM_ITEMS, dim: DIM, rng })
          .vector,
    )
    const decoded = decodeSecAggSum(sumVectors(vectors), { numItems: NUM_ITEMS, dim: DIM })
    expect(decoded.weight).toBe(updates.reduce((s, u) => s + u.sampleCount, 0))
    const rowWeights = new Float64Array(NUM_ITEMS)
    const bias = new Float64Array(NUM_ITEMS)
    const emb = new Float64Array(NUM_ITEMS * DIM)
    for (const u of updates) {
      const [b, e] = u.tensors
      b!.rowIds.forEach((row, i) => {
        rowWeights[row]! += u.sampleCount
        bias[row]! += u.sampleCount * b!.values[i]!
        for (let c = 0; c < DIM; c++) emb[row * DIM + c]! += u.sampleCount * e!.values[i * DIM + c]!
      })
    }
    expect(Array.from(decoded.rowWeights)).toEqual(Array.from(rowWeights))
    // Each client rounds to within one step of 1/scale.
    const step = 20 / DEFAULT_SECAGG_QUANTIZATION.scale
    const [dBias, dEmb] = decoded.tensors
    for (let i = 0; i < NUM_ITEMS; i++)
      expect(Math.abs(dBias!.weighted[i]! - bias[i]!)).toBeLessThanOrEqual(step)
    for (let i = 0; i < emb.length; i++)
      expect(Math.abs(dEmb!.weighted[i]! - emb[i]!)).toBeLessThanOrEqual(step)
  })

  it.each<RowNormalization>(['all', 'touched'])(
    "gives the accumulator the same mean as plain adds, within quantisation ('%s')",
    (rowNormalization) => {
      const rng = createRng(12)
      const updates = Array.from({ length: 10 }, () => randomUpdate(rng))
      const plain = createAccumulator({ tensors: shapes, rowNormalization })
      for (const u of updates) plain.add(u)
      const secure = createAccumulator({ tensors: shapes, rowNormalization })
      const vectors = updates.map(
        (u) =>
          encodeSecAggVector({ deltas: u.tensors, weight: u.sampleCount, numItems: NUM_ITEMS, dim: DIM })
            .vector,
      )
      secure.addSum(
        secAggAggregate(decodeSecAggSum(sumVectors(vectors), { numItems: NUM_ITEMS, dim: DIM }), 10),
      )
      expect(secure.participants).toBe(10)
      expect(secure.samples).toBe(plain.samples)
      const a = plain.result()
      const b = secure.result()
      for (const { name } of shapes) {
        const x = a.get(name)!
        const y = b.get(name)!
        let worst = 0
        for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!))
        // ≤ 10 rounding steps of 1/256 divided by at least one client's n_k ≥ 1.
        expect(worst).toBeLessThan(10 / 256)
        expect(worst).toBeGreaterThan(0)
      }
    },
  )

  it('rounds stochastically without bias and counts what it clips', () => {
    const rng = createRng(13)
    const x = 0.3 / 256 // 0.3 of a quantisation step
    let total = 0
    for (let k = 0; k < 4000; k++) {
      const { vector } = encodeSecAggVector({
        deltas: [{ name: ITEM_BIAS, cols: 1, rowIds: Uint32Array.of(0), values: Float32Array.of(x) }],
        weight: 1,
        numItems: 2,
        dim: 1,
        rng,
      })
      total += vector[3]!
    }
    expect(total / 4000).toBeGreaterThan(0.27)
    expect(total / 4000).toBeLessThan(0.33)
    const { vector, clipped } = encodeSecAggVector({
      deltas: [{ name: ITEM_BIAS, cols: 1, rowIds: Uint32Array.of(0, 1), values: Float32Array.of(50, -50) }],
      weight: 1000,
      numItems: 2,
      dim: 1,
    })
    expect(clipped).toBe(2)
    const signed = new Int32Array(vector.buffer)
    expect(signed[3]).toBe(32768 * 256)
    expect(signed[4]).toBe(-32768 * 256)
  })

  it('refuses layouts and parameters that could overflow or do not fit', () => {
    const deltas = [{ name: ITEM_BIAS, cols: 1, rowIds: Uint32Array.of(5), values: Float32Array.of(0.1) }]
    expect(() => encodeSecAggVector({ deltas, weight: 1, numItems: 3, dim: 2 })).toThrow(/outside 3 items/)
    expect(() => encodeSecAggVector({ deltas: [], weight: 0, numItems: 3, dim: 2 })).toThrow(
      expect.objectContaining({ code: 'overflow' }),
    )
    expect(() =>
      encodeSecAggVector({
        deltas: [],
        weight: 1,
        numItems: 3,
        dim: 2,
        quantization: { scale: 4096, clip: 32768, maxClients: 255 },
      }),
    ).toThrow(/wrap/)
    expect(() =>
      encodeSecAggVector({
        deltas: [{ name: 'user', cols: 1, rowIds: Uint32Array.of(0), values: Float32Array.of(1) }],
        weight: 1,
        numItems: 3,
        dim: 2,
      }),
    ).toThrow(/unknown tensor/)
    expect(() => decodeSecAggSum(new Uint32Array(4), { numItems: 3, dim: 2 })).toThrow(
      expect.objectContaining({ code: 'vector_length' }),
    )
  })

  it('accumulator.addSum refuses a bad aggregate without changing the sums', () => {
    const acc = createAccumulator({ tensors: shapes, rowNormalization: 'touched' })
    const weighted = new Float64Array(NUM_ITEMS)
    expect(() =>
      acc.addSum({ participants: 1, samples: 3, tensors: [{ name: ITEM_BIAS, weighted }] }),
    ).toThrow(/needs rowWeights/)
    expect(() =>
      acc.addSum({
        participants: 1,
        samples: 3,
        tensors: [{ name: 'nope', weighted, rowWeights: weighted }],
      }),
    ).toThrow(expect.objectContaining({ code: 'unknown_tensor' }))
    expect(() =>
      acc.addSum({
        participants: 1,
        samples: 3,
        tensors: [{ name: ITEM_EMBEDDING, weighted, rowWeights: new Float64Array(NUM_ITEMS) }],
      }),
    ).toThrow(expect.objectContaining({ code: 'shape_mismatch' }))
    expect(() => acc.addSum({ participants: 0, samples: 3, tensors: [] })).toThrow(
      expect.objectContaining({ code: 'bad_sample_count' }),
    )
    expect(acc.participants).toBe(0)
  })
})
