import { describe, expect, it } from 'vitest'
import { crc32 } from './crc32.ts'
import { ProtocolError } from './errors.ts'
import { decodeModel, encodeModel } from './model-codec.ts'
import { applyModelPatch, changedRows, createModelPatch, modelDigest } from './model-patch.ts'
import { decodeModelPatch, encodeModelPatch } from './model-patch-codec.ts'
import { codeOf } from './test-support.ts'
import type { ItemFeatures, ModelPatch, ModelSnapshot } from './types.ts'

const DIM = 2
const F = 5

/** A model of `n` items and an F-row feature table; item i has feature rows [i % F, (i + 1) % F]. */
function model(version: number, n: number): ModelSnapshot {
  const table = (name: string, rows: number, cols: number, shift: number) => ({
    name,
    rows,
    cols,
    values: Float32Array.from({ length: rows * cols }, (_, k) => k / 8 + shift),
  })
  return {
    modelVersion: version,
    round: version,
    itemIds: Array.from({ length: n }, (_, i) => `sku-${i}`),
    tensors: [
      table('item_embedding', n, DIM, 0),
      table('item_bias', n, 1, 1),
      table('feature_embedding', F, DIM, 2),
      table('feature_bias', F, 1, 3),
    ],
    itemFeatures: featuresOf(n),
  }
}

function featuresOf(n: number): ItemFeatures {
  return {
    numFeatures: F,
    offsets: Uint32Array.from({ length: n + 1 }, (_, i) => 2 * i),
    rows: Uint32Array.from({ length: 2 * n }, (_, k) => (Math.floor(k / 2) + (k % 2)) % F),
  }
}

/** `base` one version on: item row 1 and feature rows 0 and 3 moved, `added` items appended (id rows 0). */
function next(base: ModelSnapshot, added: number): ModelSnapshot {
  const n = base.itemIds.length + added
  const target = model(base.modelVersion + 1, n)
  target.round = base.round // catalogue growth: a new version, no new round
  for (const t of target.tensors) {
    const old = base.tensors.find((x) => x.name === t.name)!
    t.values.fill(0)
    t.values.set(old.values)
  }
  target.tensors[0]!.values[1 * DIM] = 9
  target.tensors[2]!.values[0] = -1
  target.tensors[3]!.values[3] = -2
  return target
}

const itemTables = (s: ModelSnapshot) => ({ numItems: s.itemIds.length, tensors: s.tensors.slice(0, 2) })
const featureTables = (s: ModelSnapshot) => ({ numItems: F, tensors: s.tensors.slice(2) })

async function patchBetween(base: ModelSnapshot, target: ModelSnapshot): Promise<ModelPatch> {
  return createModelPatch(target, {
    fromVersion: base.modelVersion,
    baseItemCount: base.itemIds.length,
    rowIds: changedRows(itemTables(base), itemTables(target)),
    featureRowIds: changedRows(featureTables(base), featureTables(target)),
    digest: await modelDigest(encodeModel(target)),
  })
}

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

describe('model patch, format 2 (item features)', () => {
  it('carries the changed feature rows and the added items feature rows, and round-trips exactly', async () => {
    const base = model(4, 6)
    const patch = await patchBetween(base, next(base, 2))
    expect(Array.from(patch.rowIds)).toEqual([1, 6, 7])
    expect(Array.from(patch.features!.rowIds)).toEqual([0, 3])
    expect(patch.features!.addedItems).toEqual({
      numFeatures: F,
      offsets: Uint32Array.of(0, 2, 4),
      rows: Uint32Array.of(1, 2, 2, 3),
    })
    const bytes = encodeModelPatch(patch)
    expect(new DataView(bytes.buffer).getUint16(4, true)).toBe(2)
    expect(decodeModelPatch(bytes)).toEqual(patch)
  })

  it('rebuilds the target model byte for byte, item features included, without touching the base', async () => {
    const base = model(4, 6)
    const target = next(base, 2)
    const before = encodeModel(base)
    const { snapshot, bytes } = await applyModelPatch(
      base,
      decodeModelPatch(encodeModelPatch(await patchBetween(base, target))),
    )
    expect(snapshot).toEqual(target)
    expect(bytes).toEqual(encodeModel(target))
    expect(decodeModel(bytes)).toEqual(target)
    expect(encodeModel(base)).toEqual(before)
  })

  it('needs the changed feature rows to make the patch of a model with item features', async () => {
    const base = model(4, 3)
    const target = next(base, 1)
    const digest = await modelDigest(encodeModel(target))
    expect(
      codeOf(() =>
        createModelPatch(target, { fromVersion: 4, baseItemCount: 3, rowIds: Uint32Array.of(1, 3), digest }),
      ),
    ).toBe('bad_row_ids')
  })

  it('refuses a format-2 patch for a model without item features, and the other way round', async () => {
    const base = model(4, 3)
    const patch = await patchBetween(base, next(base, 1))
    const idOnly: ModelSnapshot = { ...base, tensors: base.tensors.slice(0, 2) }
    delete idOnly.itemFeatures
    expect(await codeOfAsync(() => applyModelPatch(idOnly, patch))).toBe('base_mismatch')
    const v1: ModelPatch = { ...patch, tensors: patch.tensors.slice(0, 2) }
    delete v1.features
    expect(await codeOfAsync(() => applyModelPatch(base, v1))).toBe('base_mismatch')
    // Feature tensors without the feature block: their rows would be item rows.
    expect(codeOf(() => encodeModelPatch({ ...patch, features: undefined }))).toBe('shape_mismatch')
  })

  it('refuses feature row ids out of order or outside F, and added items with the wrong count', async () => {
    const base = model(4, 3)
    const patch = await patchBetween(base, next(base, 1))
    const f = patch.features!
    const unsorted = { ...patch, features: { ...f, rowIds: Uint32Array.of(3, 0) } }
    expect(codeOf(() => encodeModelPatch(unsorted))).toBe('bad_row_ids')
    const outside = { ...patch, features: { ...f, rowIds: Uint32Array.of(0, F) } }
    expect(codeOf(() => encodeModelPatch(outside))).toBe('bad_row_ids')
    const twoAdded = {
      ...patch,
      features: {
        ...f,
        addedItems: { numFeatures: F, offsets: Uint32Array.of(0, 1, 2), rows: Uint32Array.of(0, 1) },
      },
    }
    expect(codeOf(() => encodeModelPatch(twoAdded))).toBe('shape_mismatch')
  })

  it('refuses damaged bytes: checksum, a forged feature row count, a changed feature row outside F', async () => {
    const base = model(4, 3)
    const patch = await patchBetween(base, next(base, 1))
    const good = encodeModelPatch(patch)
    const flipped = good.slice()
    flipped[40] = flipped[40]! ^ 1
    expect(codeOf(() => decodeModelPatch(flipped))).toBe('checksum')
    // Header 32 bytes, 1 added id 'sku-3' (7, padded to 8): the feature block starts at 40; F, total 2, one
    // u16 count (padded to 4), two u16 rows: 16 bytes; then R = 2 and its 2 ids, then Q at 40 + 16 + 12.
    const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset)
    expect(view(good).getUint32(40, true)).toBe(F)
    const q = 40 + 16 + 12
    expect(view(good).getUint32(q, true)).toBe(2)
    const forged = good.slice()
    view(forged).setUint32(q, 0x40000000, true)
    expect(codeOf(() => decodeModelPatch(reseal(forged)))).toBe('truncated')
    const outside = good.slice()
    view(outside).setUint32(q + 8, F, true)
    expect(codeOf(() => decodeModelPatch(reseal(outside)))).toBe('bad_row_ids')
  })
})
