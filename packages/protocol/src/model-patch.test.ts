import { describe, expect, it } from 'vitest'
import { crc32 } from './crc32.ts'
import { ProtocolError } from './errors.ts'
import { decodeModel, encodeModel } from './model-codec.ts'
import { applyModelPatch, changedRows, createModelPatch, modelDigest } from './model-patch.ts'
import { decodeModelPatch, encodeModelPatch } from './model-patch-codec.ts'
import { codeOf } from './test-support.ts'
import type { ModelPatch, ModelSnapshot } from './types.ts'

const DIM = 3

/** A model of `n` items with distinct values per row. */
function model(version: number, n: number, shift = 0): ModelSnapshot {
  return {
    modelVersion: version,
    round: version,
    itemIds: Array.from({ length: n }, (_, i) => (i === 1 ? 'café-1' : `sku-${i}`)),
    tensors: [
      {
        name: 'item_embedding',
        rows: n,
        cols: DIM,
        values: Float32Array.from({ length: n * DIM }, (_, k) => k / 7 + shift),
      },
      { name: 'item_bias', rows: n, cols: 1, values: Float32Array.from({ length: n }, (_, k) => -k / 3) },
    ],
  }
}

/** `base` moved to version + 1: rows `touched` changed, `added` items appended. */
function next(base: ModelSnapshot, touched: number[], added: number): ModelSnapshot {
  const n = base.itemIds.length + added
  const out: ModelSnapshot = {
    modelVersion: base.modelVersion + 1,
    round: base.round + 1,
    itemIds: [...base.itemIds, ...Array.from({ length: added }, (_, i) => `new-${base.modelVersion}-${i}`)],
    tensors: base.tensors.map((t) => {
      const values = new Float32Array(n * t.cols)
      values.set(t.values)
      for (let k = t.values.length; k < values.length; k++) values[k] = 0.5 + k / 11
      for (const row of touched) values[row * t.cols] = values[row * t.cols]! + 0.25
      return { ...t, rows: n, values }
    }),
  }
  return out
}

const tables = (s: ModelSnapshot) => ({ numItems: s.itemIds.length, tensors: s.tensors })

async function patchBetween(base: ModelSnapshot, target: ModelSnapshot): Promise<ModelPatch> {
  return createModelPatch(target, {
    fromVersion: base.modelVersion,
    baseItemCount: base.itemIds.length,
    rowIds: changedRows(tables(base), tables(target)),
    digest: await modelDigest(encodeModel(target)),
  })
}

/** Runs `fn`, expects it to reject with a ProtocolError, and returns its code. */
async function codeOfAsync(fn: () => Promise<unknown>): Promise<string> {
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ProtocolError)
  return (err as ProtocolError).code
}

function reseal(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(
    bytes.length - 4,
    crc32(bytes.subarray(0, bytes.length - 4)),
    true,
  )
  return bytes
}

describe('changedRows', () => {
  it('finds the rows that differ in any tensor, bit for bit, and every added row', () => {
    const base = model(4, 10)
    const target = next(base, [7, 2], 2)
    target.tensors[1]!.values[5] = 42 // bias only
    expect(Array.from(changedRows(tables(base), tables(target)))).toEqual([2, 5, 7, 10, 11])
    // +0 → -0 compares equal as numbers but changes the bytes, so the row changed.
    const zero = model(1, 3)
    zero.tensors[1]!.values[0] = 0
    const negative = model(1, 3)
    negative.tensors[1]!.values[0] = -0
    expect(Array.from(changedRows(tables(zero), tables(negative)))).toEqual([0])
    expect(Array.from(changedRows(tables(zero), tables(zero)))).toEqual([])
  })

  it('refuses models with other tensors or a catalogue that shrank', () => {
    const base = model(1, 4)
    expect(codeOf(() => changedRows(tables(base), { numItems: 3, tensors: base.tensors }))).toBe(
      'shape_mismatch',
    )
    expect(codeOf(() => changedRows(tables(base), { numItems: 4, tensors: base.tensors.slice(0, 1) }))).toBe(
      'shape_mismatch',
    )
  })
})

describe('model patch', () => {
  it('round-trips every field exactly', async () => {
    const base = model(4, 6)
    const patch = await patchBetween(base, next(base, [0, 3], 2))
    expect(decodeModelPatch(encodeModelPatch(patch))).toEqual(patch)
  })

  it('rebuilds the target model byte for byte, with added items, without touching the base', async () => {
    const base = model(4, 6)
    const target = next(base, [0, 3], 2)
    const before = encodeModel(base)
    const patch = decodeModelPatch(encodeModelPatch(await patchBetween(base, target)))
    const { snapshot, bytes } = await applyModelPatch(base, patch)
    expect(snapshot).toEqual(target)
    expect(bytes).toEqual(encodeModel(target))
    expect(decodeModel(bytes)).toEqual(target)
    expect(encodeModel(base)).toEqual(before)
  })

  it('chains: v1 → v3 in one patch equals the model of two rounds', async () => {
    const v1 = model(1, 5)
    const v2 = next(v1, [1], 1)
    const v3 = next(v2, [4], 0)
    const rowIds = Uint32Array.of(1, 4, 5) // the union of both rounds' changed rows
    const patch = createModelPatch(v3, {
      fromVersion: 1,
      baseItemCount: 5,
      rowIds,
      digest: await modelDigest(encodeModel(v3)),
    })
    expect((await applyModelPatch(v1, patch)).snapshot).toEqual(v3)
  })

  it('is much smaller than the model when few rows changed', async () => {
    const base = model(1, 1000)
    const patch = encodeModelPatch(await patchBetween(base, next(base, [3, 30, 300], 0)))
    // header 32 + rows 4 + 3·4 + tensors (16 + 4 + 3·3·4) + (12 + 4 + 3·4) + digest 32 + crc 4
    expect(patch.length).toBe(32 + 4 + 12 + 56 + 28 + 32 + 4)
    expect(patch.length * 100).toBeLessThan(encodeModel(base).length)
  })

  it('refuses a patch for another base: version, item count', async () => {
    const base = model(4, 6)
    const patch = await patchBetween(base, next(base, [1], 1))
    expect(await codeOfAsync(() => applyModelPatch(model(3, 6), patch))).toBe('base_mismatch')
    expect(await codeOfAsync(() => applyModelPatch(model(4, 5), patch))).toBe('base_mismatch')
  })

  it('refuses a result whose digest differs: same version, other weights', async () => {
    const base = model(4, 6)
    const patch = await patchBetween(base, next(base, [1], 0))
    // A store recreated from scratch counts versions again: same number, other model.
    expect(await codeOfAsync(() => applyModelPatch(model(4, 6, 0.5), patch))).toBe('digest_mismatch')
    const forged = { ...patch, digest: new Uint8Array(32) }
    expect(await codeOfAsync(() => applyModelPatch(base, forged))).toBe('digest_mismatch')
  })

  it('refuses out-of-range, unsorted or missing rows', async () => {
    const base = model(4, 6)
    const patch = await patchBetween(base, next(base, [1, 2], 1))
    const withRows = (rowIds: Uint32Array) => ({
      ...patch,
      rowIds,
      tensors: patch.tensors.map((t) => ({ ...t, values: new Float32Array(rowIds.length * t.cols) })),
    })
    expect(await codeOfAsync(() => applyModelPatch(base, withRows(Uint32Array.of(1, 2, 6, 7))))).toBe(
      'bad_row_ids',
    )
    expect(await codeOfAsync(() => applyModelPatch(base, withRows(Uint32Array.of(2, 1, 6))))).toBe(
      'bad_row_ids',
    )
    // Row 6 is the added item's: without its values the model would have a hole.
    expect(await codeOfAsync(() => applyModelPatch(base, withRows(Uint32Array.of(1, 2))))).toBe('bad_row_ids')
    // The same on the wire: an out-of-range row id re-sealed behind a valid checksum.
    const bytes = encodeModelPatch(patch)
    const rowsAt = 32 + 12 // header, then the one added id ("new-4-0": 2 + 7 → 12 bytes)
    expect(new DataView(bytes.buffer).getUint32(rowsAt, true)).toBe(3)
    new DataView(bytes.buffer).setUint32(rowsAt + 4 + 4, 9, true)
    expect(codeOf(() => decodeModelPatch(reseal(bytes)))).toBe('bad_row_ids')
  })

  it('refuses an added id the base already has, and tensors that do not fit', async () => {
    const base = model(4, 6)
    const target = next(base, [], 1)
    target.itemIds[6] = 'sku-2'
    const patch = createModelPatch(target, {
      fromVersion: 4,
      baseItemCount: 6,
      rowIds: Uint32Array.of(6),
      digest: new Uint8Array(32),
    })
    expect(await codeOfAsync(() => applyModelPatch(base, patch))).toBe('bad_header')
    const wide = await patchBetween(base, next(base, [1], 0))
    const narrow = {
      ...base,
      tensors: [
        { ...base.tensors[0]!, cols: 1, values: base.tensors[0]!.values.slice(0, 6) },
        base.tensors[1]!,
      ],
    }
    expect(await codeOfAsync(() => applyModelPatch(narrow, wide))).toBe('shape_mismatch')
  })

  it('refuses damaged, truncated, foreign or backwards bytes', async () => {
    const base = model(4, 6)
    const patch = await patchBetween(base, next(base, [1], 1))
    const bytes = encodeModelPatch(patch)
    const flipped = bytes.slice()
    flipped[40] = (flipped[40] ?? 0) ^ 1
    expect(codeOf(() => decodeModelPatch(flipped))).toBe('checksum')
    expect(codeOf(() => decodeModelPatch(reseal(bytes.slice(0, bytes.length - 8))))).toBe('truncated')
    expect(codeOf(() => decodeModelPatch(encodeModel(base)))).toBe('bad_magic')
    expect(codeOf(() => encodeModelPatch({ ...patch, fromVersion: 6 }))).toBe('bad_header')
    const v3 = bytes.slice()
    v3[4] = 3
    expect(codeOf(() => decodeModelPatch(reseal(v3)))).toBe('unsupported_version')
    const nan = bytes.slice()
    new DataView(nan.buffer).setFloat32(bytes.length - 4 - 32 - 4, Number.NaN, true)
    expect(codeOf(() => decodeModelPatch(reseal(nan)))).toBe('non_finite')
    expect(codeOf(() => encodeModelPatch({ ...patch, digest: new Uint8Array(20) }))).toBe('bad_header')
  })
})
