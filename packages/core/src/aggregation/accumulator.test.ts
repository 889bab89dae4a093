import type { TensorDelta } from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { accumulatorBuffers, createAccumulator } from './accumulator.ts'
import { AggregationError } from './errors.ts'

function delta(name: string, cols: number, rowIds: number[], values: number[]): TensorDelta {
  return { name, cols, rowIds: Uint32Array.from(rowIds), values: Float32Array.from(values) }
}

function snapshot(map: Map<string, Float32Array>): Record<string, number[]> {
  return Object.fromEntries([...map].map(([name, values]) => [name, Array.from(values)]))
}

describe('createAccumulator', () => {
  it('averages two clients with n=1 and n=3 in the ratio 1:3', () => {
    const acc = createAccumulator({ tensors: [{ name: 'item', rows: 2, cols: 2 }] })
    acc.add({ sampleCount: 1, tensors: [delta('item', 2, [0, 1], [4, 8, 0, -4])] })
    acc.add({ sampleCount: 3, tensors: [delta('item', 2, [0, 1], [0, 4, 4, 0])] })
    // mean = (1·A + 3·B) / 4
    // row 0: (1·4 + 3·0) / 4 = 1,  (1·8 + 3·4) / 4 = 20/4 = 5
    // row 1: (1·0 + 3·4) / 4 = 3,  (1·-4 + 3·0) / 4 = -1
    expect(Array.from(acc.result().get('item')!)).toEqual([1, 5, 3, -1])
    expect(acc.participants).toBe(2)
    expect(acc.samples).toBe(4)
  })

  it("divides a row touched by one client by all samples ('all') or by that client's samples ('touched')", () => {
    // A (n=1) touches rows 0 and 2, B (n=3) touches only row 0; nobody touches row 1.
    const updates = [
      { sampleCount: 1, tensors: [delta('bias', 1, [0, 2], [2, 8])] },
      { sampleCount: 3, tensors: [delta('bias', 1, [0], [6])] },
    ]
    const all = createAccumulator({ tensors: [{ name: 'bias', rows: 3, cols: 1 }] })
    const touched = createAccumulator({
      tensors: [{ name: 'bias', rows: 3, cols: 1 }],
      rowNormalization: 'touched',
    })
    for (const u of updates) {
      all.add(u)
      touched.add(u)
    }
    // 'all':     row 0 = (1·2 + 3·6) / (1+3) = 20/4 = 5;  row 1 = 0;  row 2 = 1·8 / (1+3) = 2
    // 'touched': row 0 = (1·2 + 3·6) / (1+3) = 5;         row 1 = 0;  row 2 = 1·8 / 1     = 8
    expect(Array.from(all.result().get('bias')!)).toEqual([5, 0, 2])
    expect(Array.from(touched.result().get('bias')!)).toEqual([5, 0, 8])
  })

  it("divides a floored tensor's rows by no less than `clients` mean client weights, and leaves the others 'touched'", () => {
    // Four clients (n = 1, 1, 3, 3: 8 samples, a mean client weight of 2). Row 0 is touched by all of them,
    // row 1 by client A alone, row 2 by nobody; the same updates go to `item` (floored) and `feat` (not).
    const values = [1, 1, 3, 3]
    const shapes = [
      { name: 'item', rows: 3, cols: 1 },
      { name: 'feat', rows: 3, cols: 1 },
    ]
    const floored = (clients: number) =>
      createAccumulator({
        tensors: shapes,
        rowNormalization: 'touched',
        rowFloor: { tensors: ['item'], clients },
      })
    const results = [0, 1.5, 3, 4, 10].map((clients) => {
      const acc = floored(clients)
      values.forEach((n, k) => {
        const rows = k === 0 ? [0, 1] : [0]
        const vals = k === 0 ? [4, 6] : [4]
        acc.add({ sampleCount: n, tensors: [delta('item', 1, rows, vals), delta('feat', 1, rows, vals)] })
      })
      return snapshot(acc.result())
    })
    // row 0: Σ n·4 / 8 = 4 under every floor ≤ 4 mean clients (8 samples). Row 1: 1·6 divided by
    // max(1, clients·2) capped at 8: clients 0 → 6, 1.5 → 6/3 = 2, 3 → 6/6 = 1, 4 → 6/8 ('all'), 10 → 6/8 too.
    expect(results.map((r) => r.item)).toEqual([
      [4, 6, 0],
      [4, 2, 0],
      [4, 1, 0],
      [4, 0.75, 0],
      [4, 0.75, 0],
    ])
    // The tensor the floor does not name stays 'touched': row 1 = 6 / 1.
    for (const r of results) expect(r.feat).toEqual([4, 6, 0])
  })

  it('weights several tensors independently and returns dense zeros for rows nobody sent', () => {
    const acc = createAccumulator({
      tensors: [
        { name: 'emb', rows: 3, cols: 2 },
        { name: 'bias', rows: 3, cols: 1 },
      ],
    })
    acc.add({ sampleCount: 2, tensors: [delta('emb', 2, [1], [1, -1])] })
    acc.add({ sampleCount: 2, tensors: [delta('bias', 1, [2], [4])] })
    // emb row 1: 2·[1, -1] / 4 = [0.5, -0.5];  bias row 2: 2·4 / 4 = 2
    expect(snapshot(acc.result())).toEqual({ emb: [0, 0, 0.5, -0.5, 0, 0], bias: [0, 0, 2] })
  })

  it('rejects bad input with a named code, without changing the sums', () => {
    const acc = createAccumulator({
      tensors: [
        { name: 'emb', rows: 4, cols: 2 },
        { name: 'bias', rows: 4, cols: 1 },
      ],
      rowNormalization: 'touched',
    })
    acc.add({ sampleCount: 2, tensors: [delta('emb', 2, [0, 3], [1, 2, 3, 4]), delta('bias', 1, [1], [5])] })
    const before = snapshot(acc.result())
    const buffers = accumulatorBuffers(acc)!
    const rawBefore = [...buffers.values()].map((b) => [Array.from(b.weighted), Array.from(b.rowWeights!)])

    // Every bad update starts with a valid tensor, so a partial write would show in the sums.
    const good = delta('emb', 2, [1], [7, 7])
    const cases: [string, { sampleCount: number; tensors: TensorDelta[] }][] = [
      ['unknown_tensor', { sampleCount: 1, tensors: [good, delta('user', 1, [0], [1])] }],
      ['duplicate_tensor', { sampleCount: 1, tensors: [good, delta('emb', 2, [2], [1, 1])] }],
      ['shape_mismatch', { sampleCount: 1, tensors: [good, delta('bias', 2, [0], [1, 1])] }],
      ['shape_mismatch', { sampleCount: 1, tensors: [good, delta('bias', 1, [0, 1], [1])] }],
      ['bad_row_ids', { sampleCount: 1, tensors: [good, delta('bias', 1, [1, 1], [1, 1])] }],
      ['bad_row_ids', { sampleCount: 1, tensors: [good, delta('bias', 1, [2, 0], [1, 1])] }],
      ['row_out_of_range', { sampleCount: 1, tensors: [good, delta('bias', 1, [0, 4], [1, 1])] }],
      ['row_out_of_range', { sampleCount: 1, tensors: [good, delta('bias', 1, [0xffffffff], [1])] }],
      ['non_finite', { sampleCount: 1, tensors: [good, delta('bias', 1, [0], [Number.NaN])] }],
      ['non_finite', { sampleCount: 1, tensors: [good, delta('bias', 1, [0], [Number.POSITIVE_INFINITY])] }],
      ['non_finite', { sampleCount: 1, tensors: [good, delta('bias', 1, [0], [1e39])] }], // float32 → Infinity
      ['bad_sample_count', { sampleCount: 0, tensors: [good] }],
      ['bad_sample_count', { sampleCount: -3, tensors: [good] }],
      ['bad_sample_count', { sampleCount: 1.5, tensors: [good] }],
      ['bad_sample_count', { sampleCount: Number.NaN, tensors: [good] }],
      ['bad_sample_count', { sampleCount: 2 ** 53, tensors: [good] }],
    ]
    for (const [code, update] of cases) {
      let caught: unknown
      try {
        acc.add(update)
      } catch (err) {
        caught = err
      }
      expect(caught, `expected ${code}`).toBeInstanceOf(AggregationError)
      expect((caught as AggregationError).code).toBe(code)
      expect((caught as AggregationError).name).toBe('AggregationError')
    }
    expect(snapshot(acc.result())).toEqual(before)
    expect([...buffers.values()].map((b) => [Array.from(b.weighted), Array.from(b.rowWeights!)])).toEqual(
      rawBefore,
    )
    expect(acc.participants).toBe(1)
    expect(acc.samples).toBe(2)
  })

  it('names the wrong value in its messages', () => {
    const acc = createAccumulator({ tensors: [{ name: 'bias', rows: 4, cols: 1 }] })
    expect(() => acc.add({ sampleCount: 1, tensors: [delta('bias', 1, [9], [1])] })).toThrow(/row id 9/)
    expect(() => acc.add({ sampleCount: 2.5, tensors: [] })).toThrow(/2\.5/)
    expect(() => acc.add({ sampleCount: 1, tensors: [delta('bias', 3, [0], [1, 1, 1])] })).toThrow(
      /1 cols.*says 3/,
    )
  })

  it('keeps the same buffers, of the same length, after 1,000 adds', () => {
    const acc = createAccumulator({
      tensors: [{ name: 'emb', rows: 100, cols: 4 }],
      rowNormalization: 'touched',
    })
    const buffers = accumulatorBuffers(acc)!
    const { weighted, rowWeights } = buffers.get('emb')!
    for (let k = 0; k < 1000; k++) {
      const row = k % 100
      acc.add({ sampleCount: 1 + (k % 7), tensors: [delta('emb', 4, [row], [1, 1, 1, 1])] })
    }
    expect(accumulatorBuffers(acc)).toBe(buffers)
    expect(buffers.size).toBe(1)
    expect(buffers.get('emb')!.weighted).toBe(weighted)
    expect(buffers.get('emb')!.rowWeights).toBe(rowWeights)
    expect(weighted.length).toBe(400)
    expect(rowWeights!.length).toBe(100)
    expect(acc.participants).toBe(1000)
    // every client moved its row by exactly 1, so every touched-normalised mean is exactly 1
    expect(
      acc
        .result()
        .get('emb')!
        .every((x) => x === 1),
    ).toBe(true)
  })

  it('starts over after reset() and refuses a result with no updates', () => {
    const acc = createAccumulator({ tensors: [{ name: 'bias', rows: 2, cols: 1 }] })
    expect(() => acc.result()).toThrow(expect.objectContaining({ code: 'no_updates' }))
    acc.add({ sampleCount: 5, tensors: [delta('bias', 1, [0], [10])] })
    acc.reset()
    expect(acc.participants).toBe(0)
    expect(acc.samples).toBe(0)
    expect(() => acc.result()).toThrow(AggregationError)
    acc.add({ sampleCount: 1, tensors: [delta('bias', 1, [1], [3])] })
    expect(Array.from(acc.result().get('bias')!)).toEqual([0, 3])
  })

  it('rejects bad options', () => {
    expect(() =>
      createAccumulator({
        tensors: [
          { name: 'a', rows: 1, cols: 1 },
          { name: 'a', rows: 2, cols: 1 },
        ],
      }),
    ).toThrow(expect.objectContaining({ code: 'duplicate_tensor' }))
    expect(() => createAccumulator({ tensors: [{ name: 'a', rows: 0, cols: 1 }] })).toThrow(/0x1/)
    expect(() => createAccumulator({ tensors: [{ name: 'a', rows: 2, cols: 1.5 }] })).toThrow(
      expect.objectContaining({ code: 'bad_option' }),
    )
  })

  it('rejects a row floor without touched normalisation, with a bad count, or naming an unknown tensor', () => {
    const tensors = [{ name: 'a', rows: 2, cols: 1 }]
    const floor = (clients: number, names = ['a']) => ({ tensors: names, clients })
    expect(() => createAccumulator({ tensors, rowFloor: floor(5) })).toThrow(
      /needs rowNormalization 'touched'/,
    )
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createAccumulator({ tensors, rowNormalization: 'touched', rowFloor: floor(bad) })).toThrow(
        expect.objectContaining({ code: 'bad_option', message: expect.stringContaining(String(bad)) }),
      )
    }
    expect(() =>
      createAccumulator({ tensors, rowNormalization: 'touched', rowFloor: floor(5, ['a', 'b']) }),
    ).toThrow(/unknown tensors: b/)
  })
})
