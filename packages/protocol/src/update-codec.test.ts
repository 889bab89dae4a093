import { describe, expect, it } from 'vitest'
import { FEATURE_BIAS, FEATURE_EMBEDDING } from './constants.ts'
import { crc32 } from './crc32.ts'
import { float16Bits, float16Value } from './float16.ts'
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
    const v3 = encodeUpdate(sample())
    v3[4] = 3
    expect(codeOf(() => decodeUpdate(reseal(v3)))).toBe('unsupported_version')
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

  it('accepts feature-table deltas only from a model with features, with rows below its feature count', () => {
    const withFeatures: ModelUpdate = {
      ...sample(),
      tensors: [
        ...sample().tensors,
        { name: FEATURE_EMBEDDING, cols: 3, rowIds: Uint32Array.of(9), values: Float32Array.of(1, 2, 3) },
        { name: FEATURE_BIAS, cols: 1, rowIds: Uint32Array.of(9), values: Float32Array.of(0.5) },
      ],
    }
    const decoded = decodeUpdate(encodeUpdate(withFeatures))
    expect(decoded.tensors.map((t) => t.name)).toEqual(withFeatures.tensors.map((t) => t.name))
    // Feature row 9 is beyond the 6 items but inside the 10 feature rows.
    expect(() => checkUpdateFits(decoded, { numItems: 6, dim: 3, numFeatures: 10 })).not.toThrow()
    expect(codeOf(() => checkUpdateFits(decoded, { numItems: 6, dim: 3, numFeatures: 9 }))).toBe(
      'bad_row_ids',
    )
    expect(codeOf(() => checkUpdateFits(decoded, { numItems: 6, dim: 3 }))).toBe('shape_mismatch')
  })
})

describe('update codec, format version 2 (float16 deltas)', () => {
  // Offsets in sample()'s f16 encoding: 52 header, then per tensor name, u32 dtype, R, C, row ids, values.
  const EMBEDDING_DTYPE = 52 + 16
  const EMBEDDING_VALUES = EMBEDDING_DTYPE + 12 + 2 * 4
  const BIAS_DTYPE = EMBEDDING_VALUES + 6 * 2 + 12 // 12 B of f16 values are already 4-aligned; the bias name
  const f16 = { dtype: 'f16' } as const

  it('writes version 1 for float32, byte for byte the old format, and version 2 for float16', () => {
    const u = sample()
    const v1 = encodeUpdate(u)
    expect(new DataView(v1.buffer).getUint16(4, true)).toBe(1)
    expect(encodeUpdate(u, { dtype: 'f32' })).toEqual(v1)
    const v2 = encodeUpdate(u, f16)
    const view = new DataView(v2.buffer)
    expect(view.getUint16(4, true)).toBe(2)
    expect(view.getUint32(EMBEDDING_DTYPE, true)).toBe(1)
    expect(view.getUint32(BIAS_DTYPE, true)).toBe(1)
  })

  it('round-trips within float16 precision, rounding toward zero', () => {
    const u = sample()
    u.tensors[1]!.values = Float32Array.of(0.1, -0.2)
    const back = decodeUpdate(encodeUpdate(u, f16))
    expect({ ...back, tensors: [] }).toEqual({ ...u, tensors: [] })
    for (const [i, t] of back.tensors.entries()) {
      const sent = u.tensors[i]!
      expect(t.name).toBe(sent.name)
      expect(t.rowIds).toEqual(sent.rowIds)
      for (const [j, x] of sent.values.entries()) {
        const y = t.values[j]!
        // Never larger in magnitude, same sign, within one float16 ulp (2^-10 relative for normal values).
        expect(Math.abs(y)).toBeLessThanOrEqual(Math.abs(x))
        expect(Math.abs(x - y)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -10)
        if (x !== 0) expect(Math.sign(y)).toBe(Math.sign(x))
      }
    }
    // Values with an exact float16 come back exactly.
    expect(back.tensors[0]!.values).toEqual(sample().tensors[0]!.values)
    expect(back.tensors[1]!.values[0]).toBe(float16Value(float16Bits(0.1)))
  })

  it('is about half the size: 2 bytes per value, each tensor padded to 4 and given a dtype word', () => {
    const rows = 994
    const rowIds = Uint32Array.from({ length: rows }, (_, i) => 3 * i)
    const u: ModelUpdate = {
      ...sample(),
      tensors: [
        { name: 'item_embedding', cols: 32, rowIds, values: new Float32Array(rows * 32).fill(0.01) },
        { name: 'item_bias', cols: 1, rowIds, values: new Float32Array(rows).fill(-0.01) },
      ],
    }
    const v1 = encodeUpdate(u).length
    const v2 = encodeUpdate(u, f16).length
    expect(v1).toBe(52 + (16 + 8 + rows * 4 + rows * 32 * 4) + (12 + 8 + rows * 4 + rows * 4) + 4)
    // 994 f16 biases are 1988 B, padded to 1988 (already a multiple of 4); the embedding too.
    expect(v2).toBe(52 + (16 + 12 + rows * 4 + rows * 32 * 2) + (12 + 12 + rows * 4 + rows * 2) + 4)
  })

  it('pads an odd number of float16 values to 4 bytes and reads past the padding', () => {
    const u = sample()
    u.tensors = [
      { name: 'item_bias', cols: 1, rowIds: Uint32Array.of(1, 4, 9), values: Float32Array.of(1, 2, 3) },
    ]
    const bytes = encodeUpdate(u, f16)
    expect(bytes.length % 4).toBe(0)
    expect(decodeUpdate(bytes).tensors[0]!.values).toEqual(Float32Array.of(1, 2, 3))
  })

  it('keeps an update clipped to a norm bound within it (rounding toward zero never grows a value)', () => {
    let seed = 7
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31 - 0.5
    }
    const norm = (xs: Float32Array[]) =>
      Math.sqrt(xs.reduce((a, x) => a + x.reduce((b, v) => b + v * v, 0), 0))
    for (let trial = 0; trial < 20; trial++) {
      const u = sample()
      u.tensors[0]!.values = Float32Array.from({ length: 6 }, next)
      u.tensors[1]!.values = Float32Array.from({ length: 2 }, next)
      // Clipped to S = 0.5 in float32, as a DP client does; then sent as float16.
      const scale = 0.5 / norm(u.tensors.map((t) => t.values))
      for (const t of u.tensors) t.values = t.values.map((v) => v * scale)
      const before = norm(u.tensors.map((t) => t.values))
      const after = norm(decodeUpdate(encodeUpdate(u, f16)).tensors.map((t) => t.values))
      expect(after).toBeLessThanOrEqual(before)
      expect(after).toBeGreaterThan(before * (1 - 2 ** -10))
    }
  })

  it('refuses on encoding a finite delta that float16 cannot hold, and NaN or ±Infinity', () => {
    for (const bad of [65520, -1e6, Number.NaN, Number.POSITIVE_INFINITY]) {
      const u = sample()
      u.tensors[0]!.values[2] = bad
      expect(codeOf(() => encodeUpdate(u, f16))).toBe('non_finite')
    }
    const u = sample()
    u.tensors[0]!.values[2] = 65504
    expect(decodeUpdate(encodeUpdate(u, f16)).tensors[0]!.values[2]).toBe(65504)
  })

  it('refuses float16 NaN and ±Infinity written by a client that skips the encoder', () => {
    for (const bits of [0x7c00, 0xfc00, 0x7e00, 0x7c01]) {
      const bytes = encodeUpdate(sample(), f16)
      new DataView(bytes.buffer).setUint16(EMBEDDING_VALUES + 2 * 4, bits, true)
      expect(codeOf(() => decodeUpdate(reseal(bytes)))).toBe('non_finite')
    }
  })

  it('refuses an unknown dtype and a forged row count', () => {
    for (const dtype of [2, 3, 0x100]) {
      const bytes = encodeUpdate(sample(), f16)
      new DataView(bytes.buffer).setUint32(EMBEDDING_DTYPE, dtype, true)
      expect(codeOf(() => decodeUpdate(reseal(bytes)))).toBe('bad_tensor')
    }
    // A float16 body relabelled float32 no longer adds up: 4 bytes a value where 2 were written.
    const relabelled = encodeUpdate(sample(), f16)
    new DataView(relabelled.buffer).setUint32(EMBEDDING_DTYPE, 0, true)
    expect(['truncated', 'trailing_bytes', 'bad_tensor']).toContain(
      codeOf(() => decodeUpdate(reseal(relabelled))),
    )
    const forged = encodeUpdate(sample(), f16)
    new DataView(forged.buffer).setUint32(EMBEDDING_DTYPE + 4, 0x7fffffff, true)
    expect(codeOf(() => decodeUpdate(reseal(forged)))).toBe('truncated')
  })

  it('reads a version 2 body with float32 tensors (the dtype is per tensor)', () => {
    // Built by hand: the encoder writes float32 updates as version 1.
    const v1 = encodeUpdate(sample())
    const parts: Uint8Array[] = [v1.slice(0, 52)]
    new DataView(parts[0]!.buffer).setUint16(4, 2, true)
    let at = 52
    for (const nameBytes of [16, 12]) {
      parts.push(v1.slice(at, at + nameBytes), Uint8Array.of(0, 0, 0, 0))
      at += nameBytes
      const rows = new DataView(v1.buffer).getUint32(at, true)
      const cols = new DataView(v1.buffer).getUint32(at + 4, true)
      const length = 8 + rows * 4 + rows * cols * 4
      parts.push(v1.slice(at, at + length))
      at += length
    }
    const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0) + 4)
    let off = 0
    for (const p of parts) {
      body.set(p, off)
      off += p.length
    }
    expect(decodeUpdate(reseal(body))).toEqual(decodeUpdate(v1))
  })
})

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(new platform.TextEncoder().encode('123456789'))).toBe(0xcbf43926)
  })
})
