import { describe, expect, it } from 'vitest'
import { decodeModel, encodeModel } from './model-codec.ts'
import { codeOf } from './test-support.ts'
import type { ModelSnapshot } from './types.ts'

const snapshot = (): ModelSnapshot => ({
  modelVersion: 3,
  round: 3,
  itemIds: ['sku-1', 'sku-2', 'café-3'],
  tensors: [
    { name: 'item_embedding', rows: 3, cols: 2, values: Float32Array.of(1, 2, 3, 4, 5, 6) },
    { name: 'item_bias', rows: 3, cols: 1, values: Float32Array.of(-1, 0, 1) },
  ],
})

describe('model codec', () => {
  it('round-trips ids (UTF-8 included) and tensors exactly', () => {
    expect(decodeModel(encodeModel(snapshot()))).toEqual(snapshot())
  })

  it('is dense float32 plus the id table: close to 4 bytes per float', () => {
    const n = 1000
    const s: ModelSnapshot = {
      modelVersion: 1,
      round: 1,
      itemIds: Array.from({ length: n }, (_, i) => `item-${i}`),
      tensors: [
        { name: 'item_embedding', rows: n, cols: 32, values: new Float32Array(n * 32) },
        { name: 'item_bias', rows: n, cols: 1, values: new Float32Array(n) },
      ],
    }
    const bytes = encodeModel(s)
    const floats = n * 33 * 4
    expect(bytes.length).toBeGreaterThan(floats)
    expect(bytes.length).toBeLessThan(floats * 1.1)
  })

  it('refuses duplicate ids, a missing tensor, misshaped tensors and non-finite values', () => {
    expect(codeOf(() => encodeModel({ ...snapshot(), itemIds: ['a', 'a', 'b'] }))).toBe('bad_header')
    expect(codeOf(() => encodeModel({ ...snapshot(), tensors: snapshot().tensors.slice(0, 1) }))).toBe(
      'shape_mismatch',
    )
    const s = snapshot()
    s.tensors[1] = { name: 'item_bias', rows: 2, cols: 1, values: Float32Array.of(0, 0) }
    expect(codeOf(() => encodeModel(s))).toBe('shape_mismatch')
    const nan = snapshot()
    nan.tensors[0]!.values[0] = Number.NaN
    expect(codeOf(() => encodeModel(nan))).toBe('non_finite')
  })

  it('refuses damaged bytes', () => {
    const bytes = encodeModel(snapshot())
    expect(codeOf(() => decodeModel(bytes.slice(0, 20)))).toBe('checksum')
    bytes[30] = (bytes[30] ?? 0) ^ 1
    expect(codeOf(() => decodeModel(bytes))).toBe('checksum')
  })
})
