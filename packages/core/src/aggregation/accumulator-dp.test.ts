import { describe, expect, it } from 'vitest'
import { createAccumulator } from './accumulator.ts'

const tensors = [
  { name: 'item_embedding', rows: 4, cols: 2 },
  { name: 'item_bias', rows: 4, cols: 1 },
]
const update = (sampleCount: number, row: number, emb: [number, number], bias: number) => ({
  sampleCount,
  tensors: [
    { name: 'item_embedding', cols: 2, rowIds: Uint32Array.of(row), values: Float32Array.of(...emb) },
    { name: 'item_bias', cols: 1, rowIds: Uint32Array.of(row), values: Float32Array.of(bias) },
  ],
})

describe('createAccumulator with dp', () => {
  it('clips each update to S, weighs it 1 whatever its n_k, and divides by the fixed denominator', () => {
    const acc = createAccumulator({ tensors, dp: { clipNorm: 1, noiseMultiplier: 0, denominator: 10 } })
    acc.add(update(1000, 0, [3, 0], 4)) // norm 5 → scaled to 1: (0.6, 0), 0.8
    acc.add(update(1, 1, [0.1, 0.2], 0)) // norm < 1: as it is
    expect(acc.clipped).toBe(1)
    expect(acc.samples).toBe(1001)
    const mean = acc.result()
    const emb = mean.get('item_embedding')!
    expect(emb[0]).toBeCloseTo(0.06, 6)
    expect(emb[2]).toBeCloseTo(0.01, 6)
    expect(emb[3]).toBeCloseTo(0.02, 6)
    expect(mean.get('item_bias')![0]).toBeCloseTo(0.08, 6)
    // The big n_k bought no extra weight: without dp the first update would dominate.
    expect(emb[0]! / emb[2]!).toBeCloseTo(6, 4)
  })

  it('adds N(0, σ²S²)/denominator to every coordinate, untouched rows included', () => {
    const big = [{ name: 'item_embedding', rows: 5000, cols: 32 }]
    const acc = createAccumulator({ tensors: big, dp: { clipNorm: 0.5, noiseMultiplier: 2, denominator: 4 } })
    acc.add({
      sampleCount: 3,
      tensors: [
        { name: 'item_embedding', cols: 32, rowIds: Uint32Array.of(0), values: new Float32Array(32) },
      ],
    })
    const mean = acc.result().get('item_embedding')!
    let squares = 0
    let zeros = 0
    for (const v of mean) {
      squares += v * v
      if (v === 0) zeros += 1
    }
    // Expected stddev σS/denominator = 0.25; 160,000 draws estimate it to about 0.2 %.
    expect(Math.sqrt(squares / mean.length)).toBeCloseTo(0.25, 2)
    expect(zeros).toBe(0)
  })

  it('answers with the noise alone when nobody took part, and fresh noise on every call', () => {
    const acc = createAccumulator({ tensors, dp: { clipNorm: 1, noiseMultiplier: 1, denominator: 2 } })
    const a = acc.result().get('item_bias')!
    const b = acc.result().get('item_bias')!
    expect([...a].some((v) => v !== 0)).toBe(true)
    expect([...a]).not.toEqual([...b])
  })

  it('refuses the touched normalisation and bad parameters', () => {
    expect(() =>
      createAccumulator({
        tensors,
        rowNormalization: 'touched',
        dp: { clipNorm: 1, noiseMultiplier: 1, denominator: 2 },
      }),
    ).toThrow(/rowNormalization 'all'/)
    expect(() =>
      createAccumulator({ tensors, dp: { clipNorm: 0, noiseMultiplier: 1, denominator: 2 } }),
    ).toThrow(/clipNorm/)
    expect(() =>
      createAccumulator({ tensors, dp: { clipNorm: 1, noiseMultiplier: -1, denominator: 2 } }),
    ).toThrow(/noiseMultiplier/)
    expect(() =>
      createAccumulator({ tensors, dp: { clipNorm: 1, noiseMultiplier: 1, denominator: 0 } }),
    ).toThrow(/denominator/)
  })
})
