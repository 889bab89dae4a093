import {
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  type TensorDelta,
} from '@fedrec/protocol'
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
const NUM_FEATURES = 16

/** A table's sparse deltas over about a quarter of its `rows`, bias then embedding, as a client sends them. */
function randomTable(rng: Rng, rows: number, biasName: string, embeddingName: string): TensorDelta[] {
  const touched: number[] = []
  for (let r = 0; r < rows; r++) if (rng.next() < 0.25) touched.push(r)
  const rowIds = Uint32Array.from(touched)
  const bias = Float32Array.from(touched, () => rng.normal() * 0.05)
  const emb = Float32Array.from({ length: touched.length * DIM }, () => rng.normal() * 0.05)
  return [
    { name: biasName, cols: 1, rowIds, values: bias },
    { name: embeddingName, cols: DIM, rowIds, values: emb },
  ]
}

function randomUpdate(rng: Rng, withFeatures = false): { sampleCount: number; tensors: TensorDelta[] } {
  return {
    sampleCount: 1 + rng.int(300),
    tensors: [
      ...randomTable(rng, NUM_ITEMS, ITEM_BIAS, ITEM_EMBEDDING),
      ...(withFeatures ? randomTable(rng, NUM_FEATURES, FEATURE_BIAS, FEATURE_EMBEDDING) : []),
    ],
  }
}

/** Σ n_k per touched row and Σ n_k·Δ of one table (its bias and embedding deltas at `at`, `at + 1`). */
function plainSums(
  updates: readonly { sampleCount: number; tensors: TensorDelta[] }[],
  rows: number,
  at: number,
): { rowWeights: Float64Array; bias: Float64Array; emb: Float64Array } {
  const rowWeights = new Float64Array(rows)
  const bias = new Float64Array(rows)
  const emb = new Float64Array(rows * DIM)
  for (const u of updates) {
    const b = u.tensors[at]!
    const e = u.tensors[at + 1]!
    b.rowIds.forEach((row, i) => {
      rowWeights[row]! += u.sampleCount
      bias[row]! += u.sampleCount * b.values[i]!
      for (let c = 0; c < DIM; c++) emb[row * DIM + c]! += u.sampleCount * e.values[i * DIM + c]!
    })
  }
  return { rowWeights, bias, emb }
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
const featureShapes = [
  ...shapes,
  { name: FEATURE_BIAS, rows: NUM_FEATURES, cols: 1 },
  { name: FEATURE_EMBEDDING, rows: NUM_FEATURES, cols: DIM },
]

describe('secagg vector layout', () => {
  it('has 1 + numItems·(2 + dim) elements: 57,189 for ML-100K at d=32; F feature rows add F·(2 + dim)', () => {
    expect(secAggVectorLength(1682, 32)).toBe(57189)
    expect(secAggVectorLength(NUM_ITEMS, DIM)).toBe(1 + NUM_ITEMS * 6)
    // 4,096 feature rows at d=32: 139,264 more elements, 557,056 more bytes per client.
    expect(secAggVectorLength(1682, 32, 4096) - secAggVectorLength(1682, 32)).toBe(139264)
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
    const { rowWeights, bias, emb } = plainSums(updates, NUM_ITEMS, 0)
    const [dBias, dEmb] = decoded.tensors
    expect(decoded.tensors.map((t) => t.name)).toEqual([ITEM_BIAS, ITEM_EMBEDDING])
    expect(Array.from(dBias!.rowWeights)).toEqual(Array.from(rowWeights))
    expect(dEmb!.rowWeights).toBe(dBias!.rowWeights)
    // Each client rounds to within one step of 1/scale.
    const step = 20 / DEFAULT_SECAGG_QUANTIZATION.scale
    for (let i = 0; i < NUM_ITEMS; i++)
      expect(Math.abs(dBias!.weighted[i]! - bias[i]!)).toBeLessThanOrEqual(step)
    for (let i = 0; i < emb.length; i++)
      expect(Math.abs(dEmb!.weighted[i]! - emb[i]!)).toBeLessThanOrEqual(step)
  })

  it('keeps the id-only layout byte for byte, and appends the feature table after it', () => {
    // Hand-worked: weight 2, row 1 touched; 2·0.5·256 = 256 and 2·(−1)·256 = −512 need no rounding.
    const deltas: TensorDelta[] = [
      { name: ITEM_BIAS, cols: 1, rowIds: Uint32Array.of(1), values: Float32Array.of(0.5) },
      { name: ITEM_EMBEDDING, cols: 1, rowIds: Uint32Array.of(1), values: Float32Array.of(-1) },
    ]
    const idOnly = encodeSecAggVector({ deltas, weight: 2, numItems: 2, dim: 1 }).vector
    expect(Array.from(idOnly)).toEqual([2, 0, 2, 0, 256, 0, -512 >>> 0])
    const feature: TensorDelta[] = [
      { name: FEATURE_BIAS, cols: 1, rowIds: Uint32Array.of(0), values: Float32Array.of(0.25) },
      { name: FEATURE_EMBEDDING, cols: 1, rowIds: Uint32Array.of(0), values: Float32Array.of(1) },
    ]
    const withFeatures = encodeSecAggVector({
      deltas: [...deltas, ...feature],
      weight: 2,
      numItems: 2,
      dim: 1,
      numFeatures: 3,
    }).vector
    expect(secAggVectorLength(2, 1, 3)).toBe(7 + 3 * 3)
    // [feature row weights (3) | feature biases (3) | feature embeddings (3·1)]
    expect(Array.from(withFeatures)).toEqual([...idOnly, 2, 0, 0, 128, 0, 0, 512, 0, 0])
    const noFeatureDeltas = encodeSecAggVector({ deltas, weight: 2, numItems: 2, dim: 1, numFeatures: 3 })
    expect(Array.from(noFeatureDeltas.vector)).toEqual([...idOnly, 0, 0, 0, 0, 0, 0, 0, 0, 0])
  })

  it('decodes 20 updates with feature rows: the feature tensors with their own Σn_k per touched row', () => {
    const rng = createRng(14)
    const updates = Array.from({ length: 20 }, () => randomUpdate(rng, true))
    const layout = { numItems: NUM_ITEMS, dim: DIM, numFeatures: NUM_FEATURES }
    const vectors = updates.map(
      (u) => encodeSecAggVector({ deltas: u.tensors, weight: u.sampleCount, ...layout, rng }).vector,
    )
    expect(vectors[0]!.length).toBe(1 + (NUM_ITEMS + NUM_FEATURES) * (2 + DIM))
    const decoded = decodeSecAggSum(sumVectors(vectors), layout)
    expect(decoded.tensors.map((t) => t.name)).toEqual([
      ITEM_BIAS,
      ITEM_EMBEDDING,
      FEATURE_BIAS,
      FEATURE_EMBEDDING,
    ])
    const step = 20 / DEFAULT_SECAGG_QUANTIZATION.scale
    for (const [at, rows] of [
      [0, NUM_ITEMS],
      [2, NUM_FEATURES],
    ] as const) {
      const { rowWeights, bias, emb } = plainSums(updates, rows, at)
      const dBias = decoded.tensors[at]!
      const dEmb = decoded.tensors[at + 1]!
      expect(Array.from(dBias.rowWeights)).toEqual(Array.from(rowWeights))
      expect(Array.from(dEmb.rowWeights)).toEqual(Array.from(rowWeights))
      for (let i = 0; i < rows; i++) expect(Math.abs(dBias.weighted[i]! - bias[i]!)).toBeLessThanOrEqual(step)
      for (let i = 0; i < emb.length; i++)
        expect(Math.abs(dEmb.weighted[i]! - emb[i]!)).toBeLessThanOrEqual(step)
    }
  })

  it.each<{ rowNormalization: RowNormalization; withFeatures: boolean }>([
    { rowNormalization: 'all', withFeatures: false },
    { rowNormalization: 'touched', withFeatures: false },
    { rowNormalization: 'all', withFeatures: true },
    { rowNormalization: 'touched', withFeatures: true },
  ])(
    'gives the accumulator the same mean as plain adds, within quantisation ($rowNormalization, features $withFeatures)',
    ({ rowNormalization, withFeatures }) => {
      const rng = createRng(12)
      const updates = Array.from({ length: 10 }, () => randomUpdate(rng, withFeatures))
      const tensors = withFeatures ? featureShapes : shapes
      const layout = { numItems: NUM_ITEMS, dim: DIM, ...(withFeatures ? { numFeatures: NUM_FEATURES } : {}) }
      const plain = createAccumulator({ tensors, rowNormalization })
      for (const u of updates) plain.add(u)
      const secure = createAccumulator({ tensors, rowNormalization })
      const vectors = updates.map(
        (u) => encodeSecAggVector({ deltas: u.tensors, weight: u.sampleCount, ...layout }).vector,
      )
      secure.addSum(secAggAggregate(decodeSecAggSum(sumVectors(vectors), layout), 10))
      expect(secure.participants).toBe(10)
      expect(secure.samples).toBe(plain.samples)
      const a = plain.result()
      const b = secure.result()
      expect([...b.keys()].sort()).toEqual(tensors.map((t) => t.name).sort())
      for (const { name } of tensors) {
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

  it('refuses feature deltas without feature rows in the vector, and feature rows outside them', () => {
    const featureBias = (row: number): TensorDelta[] => [
      { name: FEATURE_BIAS, cols: 1, rowIds: Uint32Array.of(row), values: Float32Array.of(0.1) },
    ]
    expect(() => encodeSecAggVector({ deltas: featureBias(0), weight: 1, numItems: 3, dim: 2 })).toThrow(
      expect.objectContaining({
        code: 'bad_message',
        message: expect.stringContaining('tensor "feature_bias" needs a vector with feature rows'),
      }),
    )
    expect(() =>
      encodeSecAggVector({ deltas: featureBias(4), weight: 1, numItems: 3, dim: 2, numFeatures: 4 }),
    ).toThrow(
      expect.objectContaining({
        code: 'vector_length',
        message: 'row 4 of "feature_bias" is outside 4 feature rows',
      }),
    )
    expect(() => encodeSecAggVector({ deltas: [], weight: 1, numItems: 3, dim: 2, numFeatures: 0 })).toThrow(
      expect.objectContaining({ code: 'bad_parameters', message: expect.stringContaining('got 0') }),
    )
    // An id-only sum decoded as if it had feature rows (or the reverse) does not fit.
    const idOnly = new Uint32Array(secAggVectorLength(3, 2))
    expect(() => decodeSecAggSum(idOnly, { numItems: 3, dim: 2, numFeatures: 4 })).toThrow(
      expect.objectContaining({ code: 'vector_length' }),
    )
    expect(() =>
      decodeSecAggSum(new Uint32Array(secAggVectorLength(3, 2, 4)), { numItems: 3, dim: 2 }),
    ).toThrow(expect.objectContaining({ code: 'vector_length' }))
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
