import { describe, expect, it } from 'vitest'
import { crc32 } from './crc32.ts'
import { newRandomId } from './ids.ts'
import { platform } from './platform.ts'
import { codeOf } from './test-support.ts'
import type { ModelUpdate } from './types.ts'
import { checkUpdateFits, decodeUpdate, encodeUpdate } from './update-codec.ts'

const sample = (): ModelUpdate => ({
  round: 7,
  modelVersion: 6,
  clientId: newRandomId(),
  idempotencyKey: newRandomId(),
  sampleCount: 42,
  tensors: [
    {
      name: 'item_embedding',
      cols: 3,
      rowIds: Uint32Array.of(2, 5),
      values: Float32Array.of(0.5, -1, 2, 0, 0.25, -0.125),
    },
    { name: 'item_bias', cols: 1, rowIds: Uint32Array.of(2, 5), values: Float32Array.of(0.1, -0.2) },
  ],
})

/** Re-seals a modified body with a valid checksum, so a test reaches the check behind the checksum. */
function reseal(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true)
  return bytes
}

describe('update codec', () => {
  it('round-trips every field exactly', () => {
    const u = sample()
    const back = decodeUpdate(encodeUpdate(u))
    expect(back).toEqual(u)
  })

  it('is compact: header + 4 bytes per row id and per float + checksum', () => {
    const bytes = encodeUpdate(sample())
    // 52 header + ("item_embedding": 1+14 → 16) + 8 + 2·4 + 6·4 + ("item_bias": 1+9 → 12) + 8 + 2·4 + 2·4 + 4 crc
    expect(bytes.length).toBe(52 + 16 + 8 + 8 + 24 + 12 + 8 + 8 + 8 + 4)
  })

  it('rejects a body that is not an update', () => {
    expect(
      codeOf(() => decodeUpdate(new platform.TextEncoder().encode('{"round":1,"deltas":[1,2,3]}'))),
    ).toBe('checksum')
    expect(codeOf(() => decodeUpdate(new Uint8Array(3)))).toBe('truncated')
  })

  it('rejects a truncated body', () => {
    const bytes = encodeUpdate(sample())
    expect(codeOf(() => decodeUpdate(bytes.slice(0, bytes.length - 9)))).toBe('checksum')
    // Truncated but re-sealed: the framing check catches it.
    const cut = reseal(bytes.slice(0, bytes.length - 8))
    expect(codeOf(() => decodeUpdate(cut))).toBe('truncated')
  })

  it('rejects a wrong magic and a wrong format version', () => {
    const bad = encodeUpdate(sample())
    bad[0] = 0x58
    expect(codeOf(() => decodeUpdate(reseal(bad)))).toBe('bad_magic')
    const v2 = encodeUpdate(sample())
    v2[4] = 2
    expect(codeOf(() => decodeUpdate(reseal(v2)))).toBe('unsupported_version')
  })

  it('rejects a flipped bit through the checksum', () => {
    const bytes = encodeUpdate(sample())
    bytes[70] = (bytes[70] ?? 0) ^ 0x10
    expect(codeOf(() => decodeUpdate(bytes))).toBe('checksum')
  })

  it('rejects NaN and ±Infinity on both sides of the wire', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const u = sample()
      u.tensors[0]!.values[4] = bad
      expect(codeOf(() => encodeUpdate(u))).toBe('non_finite')
      // A hostile client skips the encoder: patch the float in the bytes directly.
      const bytes = encodeUpdate(sample())
      const view = new DataView(bytes.buffer)
      view.setFloat32(52 + 16 + 8 + 8 + 4 * 4, bad, true)
      expect(codeOf(() => decodeUpdate(reseal(bytes)))).toBe('non_finite')
    }
  })

  it('rejects repeated or unsorted row ids', () => {
    const u = sample()
    u.tensors[1]!.rowIds = Uint32Array.of(5, 5)
    expect(codeOf(() => encodeUpdate(u))).toBe('bad_row_ids')
    const bytes = encodeUpdate(sample())
    new DataView(bytes.buffer).setUint32(52 + 16 + 8 + 4, 2, true) // second id 5 → 2 (repeats the first)
    expect(codeOf(() => decodeUpdate(reseal(bytes)))).toBe('bad_row_ids')
  })

  it('rejects a sample count that is zero or not an integer', () => {
    for (const n of [0, -3, 1.5, Number.NaN]) {
      expect(codeOf(() => encodeUpdate({ ...sample(), sampleCount: n }))).toBe('bad_sample_count')
    }
    const bytes = encodeUpdate(sample())
    new DataView(bytes.buffer).setUint32(16, 0, true)
    expect(codeOf(() => decodeUpdate(reseal(bytes)))).toBe('bad_sample_count')
  })

  it('rejects a forged row count before allocating for it', () => {
    const bytes = encodeUpdate(sample())
    new DataView(bytes.buffer).setUint32(52 + 16, 0x7fffffff, true)
    expect(codeOf(() => decodeUpdate(reseal(bytes)))).toBe('truncated')
  })

  it('rejects trailing bytes', () => {
    const bytes = encodeUpdate(sample())
    const longer = new Uint8Array(bytes.length + 4)
    longer.set(bytes.subarray(0, bytes.length - 4))
    expect(codeOf(() => decodeUpdate(reseal(longer)))).toBe('trailing_bytes')
  })

  it('rejects malformed ids on encode', () => {
    expect(codeOf(() => encodeUpdate({ ...sample(), clientId: 'shopper-42' }))).toBe('bad_header')
  })

  it('checks the update against the model shape', () => {
    const u = sample()
    expect(() => checkUpdateFits(u, { numItems: 6, dim: 3 })).not.toThrow()
    expect(codeOf(() => checkUpdateFits(u, { numItems: 5, dim: 3 }))).toBe('bad_row_ids')
    expect(codeOf(() => checkUpdateFits(u, { numItems: 6, dim: 4 }))).toBe('shape_mismatch')
    u.tensors[1]!.name = 'user_vector'
    expect(codeOf(() => checkUpdateFits(u, { numItems: 6, dim: 3 }))).toBe('shape_mismatch')
  })
})

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(new platform.TextEncoder().encode('123456789'))).toBe(0xcbf43926)
  })
})
