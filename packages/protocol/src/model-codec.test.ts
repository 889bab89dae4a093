import { describe, expect, it } from 'vitest'
import { crc32 } from './crc32.ts'
import { bytesToHex } from './ids.ts'
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

/** snapshot() with a feature table of `rows` rows: item 0 has rows [2, 0], item 1 none, item 2 [rows − 1]. */
const withFeatures = (rows = 3): ModelSnapshot => ({
  ...snapshot(),
  tensors: [
    ...snapshot().tensors,
    {
      name: 'feature_embedding',
      rows,
      cols: 2,
      values: Float32Array.from({ length: rows * 2 }, (_, k) => k / 4),
    },
    { name: 'feature_bias', rows, cols: 1, values: Float32Array.from({ length: rows }, (_, k) => -k) },
  ],
  itemFeatures: {
    numFeatures: rows,
    offsets: Uint32Array.of(0, 2, 2, 3),
    rows: Uint32Array.of(2, 0, rows - 1),
  },
})

const versionOf = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset).getUint16(4, true)

/** Rewrites the trailing CRC-32 so a deliberately damaged body reaches the checks behind the checksum. */
function reseal(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(
    bytes.length - 4,
    crc32(bytes.subarray(0, bytes.length - 4)),
    true,
  )
  return bytes
}

describe('model codec, format 2 (item features)', () => {
  it('writes a model without item features as format 1, byte for byte what the encoder wrote before', () => {
    const bytes = encodeModel(snapshot())
    expect(versionOf(bytes)).toBe(1)
    // Printed by the encoder of the commit before format 2 (520aa89) for snapshot().
    expect(bytesToHex(bytes)).toBe(
      '46524d44010002000300000003000000030000000500736b752d310500736b752d320700636166c3a92d33000e6974656d5f656d62656464696e67000000000003000000020000000000803f0000004000004040000080400000a0400000c040096974656d5f626961730000000000000300000001000000000080bf000000000000803f212b8a1e',
    )
  })

  it('round-trips item features and the feature table exactly, as format 2', () => {
    const bytes = encodeModel(withFeatures())
    expect(versionOf(bytes)).toBe(2)
    expect(decodeModel(bytes)).toEqual(withFeatures())
    // The block: F and row count 8, 3 u16 counts + padding 8, 3 u16 rows + padding 8; the tensors: name
    // 20 + shape 12 + 6 floats 24, name 16 + shape 12 + 3 floats 12.
    expect(bytes.length - encodeModel(snapshot()).length).toBe(24 + 56 + 40)
  })

  it('writes row indices as u32 when the table has more than 65,536 rows', () => {
    const s = withFeatures(70_000)
    expect(decodeModel(encodeModel(s))).toEqual(s)
  })

  it('refuses item features without their table, with another F, or pointing outside it', () => {
    const noTable = withFeatures()
    noTable.tensors = noTable.tensors.slice(0, 2)
    expect(codeOf(() => encodeModel(noTable))).toBe('shape_mismatch')
    const otherF = withFeatures()
    otherF.itemFeatures = { ...otherF.itemFeatures!, numFeatures: 4 }
    expect(codeOf(() => encodeModel(otherF))).toBe('shape_mismatch')
    const outside = withFeatures()
    outside.itemFeatures!.rows[0] = 3
    expect(codeOf(() => encodeModel(outside))).toBe('bad_row_ids')
    const fewItems = withFeatures()
    fewItems.itemFeatures = {
      numFeatures: 3,
      offsets: Uint32Array.of(0, 2, 3),
      rows: Uint32Array.of(2, 0, 1),
    }
    expect(codeOf(() => encodeModel(fewItems))).toBe('shape_mismatch')
    const descending = withFeatures()
    descending.itemFeatures!.offsets.set([0, 2, 1, 3])
    expect(codeOf(() => encodeModel(descending))).toBe('bad_header')
  })

  it('refuses damaged format-2 bytes: checksum, counts that do not add up, a row outside F, truncation', () => {
    const good = encodeModel(withFeatures())
    const flipped = good.slice()
    flipped[40] = flipped[40]! ^ 1
    expect(codeOf(() => decodeModel(flipped))).toBe('checksum')
    // The block starts after the header (20 bytes) and the ids (7 + 7 + 9 = 23, padded to 24): offset 44.
    const at = 44
    const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset)
    expect(view(good).getUint32(at, true)).toBe(3)
    const badTotal = good.slice()
    view(badTotal).setUint32(at + 4, 4, true)
    expect(codeOf(() => decodeModel(reseal(badTotal)))).toBe('bad_header')
    const badRow = good.slice()
    view(badRow).setUint16(at + 16, 3, true) // item 0's first row: 2 → 3, outside F = 3
    expect(codeOf(() => decodeModel(reseal(badRow)))).toBe('bad_row_ids')
    const forged = good.slice()
    view(forged).setUint32(at + 4, 0x40000000, true)
    expect(codeOf(() => decodeModel(reseal(forged)))).toBe('truncated')
    expect(codeOf(() => decodeModel(reseal(good.slice(0, at + 12))))).toBe('truncated')
  })
})
