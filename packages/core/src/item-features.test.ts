import { describe, expect, it } from 'vitest'
import {
  addItemVector,
  checkItemFeatures,
  featureRows,
  fnv1a32,
  hashFeature,
  type ItemFeatures,
  itemTable,
} from './item-features.ts'
import { modelErrorCode } from './test-errors.ts'
import type { SharedWeights } from './weights.ts'

describe('fnv1a32 and hashFeature', () => {
  it('matches the published FNV-1a vectors and hashes UTF-8 bytes (checked against Python)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5)
    expect(fnv1a32('a')).toBe(0xe40c292c)
    expect(fnv1a32('foobar')).toBe(0xbf9cf968)
    expect(fnv1a32('cat:électronique')).toBe(0x00f8049a)
    expect(fnv1a32('tok:😀')).toBe(0xf8c13aa8)
  })

  it('gives a feature the same row on every call and the row of its hash modulo F', () => {
    const rows = Array.from({ length: 3 }, () => hashFeature('brand:samsung', 4096))
    expect(new Set(rows).size).toBe(1)
    // FNV-1a, murmur3's finaliser, modulo F — the same numbers a Python port gives (2071 and 276).
    expect(rows[0]).toBe(2071)
    expect(hashFeature('foobar', 1000)).toBe(276)
  })

  it('collides about as often as a uniform hash: V²/2F pairs for V strings in F rows', () => {
    const strings = Array.from({ length: 500 }, (_, i) => `tok:word${i}`)
    const perRow = new Map<number, number>()
    for (const s of strings) {
      const row = hashFeature(s, 4096)
      perRow.set(row, (perRow.get(row) ?? 0) + 1)
    }
    let pairs = 0
    for (const n of perRow.values()) pairs += (n * (n - 1)) / 2
    // Expected 500²/(2·4096) ≈ 30.5 pairs, standard deviation ≈ 5.5: a skewed hash would land far outside.
    expect(pairs).toBeGreaterThan(14)
    expect(pairs).toBeLessThan(48)
  })

  it('refuses an empty or non-string feature and a bad row count', () => {
    expect(modelErrorCode(() => hashFeature('', 16))).toBe('bad_feature')
    expect(modelErrorCode(() => hashFeature(7 as unknown as string, 16))).toBe('bad_feature')
    expect(modelErrorCode(() => hashFeature('cat:x', 0))).toBe('bad_option')
    expect(modelErrorCode(() => hashFeature('cat:x', 1.5))).toBe('bad_option')
  })
})

describe('featureRows', () => {
  it('builds one CSR list per item, a repeated string once, no list or [] for none', () => {
    const f = featureRows([['cat:shoes', 'brand:acme', 'cat:shoes'], [], undefined, ['cat:shoes']], 64)
    expect(f.numFeatures).toBe(64)
    expect([...f.offsets]).toEqual([0, 2, 2, 2, 3])
    const shoes = hashFeature('cat:shoes', 64)
    expect([...f.rows]).toEqual([shoes, hashFeature('brand:acme', 64), shoes])
  })

  it('keeps two strings that collide as two entries of one row', () => {
    // Find two features sharing a row of a 7-row table: every string lands in one of 7 rows.
    const seen = new Map<number, string>()
    let pair: [string, string] | undefined
    for (let i = 0; !pair; i++) {
      const s = `tok:${i}`
      const row = hashFeature(s, 7)
      const other = seen.get(row)
      if (other) pair = [other, s]
      seen.set(row, s)
    }
    const f = featureRows([pair], 7)
    expect([...f.rows]).toEqual([hashFeature(pair[0], 7), hashFeature(pair[0], 7)])
  })

  it('names the item and the value of a bad feature', () => {
    const bad = (features: unknown) => () => featureRows(features as string[][], 16)
    expect(modelErrorCode(bad([['cat:a'], ['']]))).toBe('bad_feature')
    expect(bad([['cat:a'], ['']])).toThrow(/item 1: a feature must be a non-empty string, got ""/)
    expect(modelErrorCode(bad([['cat:a', 3]]))).toBe('bad_feature')
    expect(bad([[null]])).toThrow(/item 0: .* got null/)
    expect(modelErrorCode(bad(['cat:a']))).toBe('bad_feature')
    expect(modelErrorCode(bad('cat:a'))).toBe('bad_feature')
    expect(modelErrorCode(() => featureRows([['cat:a']], -1))).toBe('bad_option')
  })
})

/** Three items in 2-D with a 4-row feature table; item 0 has features 1 and 3, item 1 none, item 2 feature 1. */
const weights: SharedWeights = {
  numItems: 3,
  dim: 2,
  itemEmbedding: Float32Array.of(1, 2, 3, 4, 5, 6),
  itemBias: Float32Array.of(0.5, 1, 1.5),
  features: {
    rows: 4,
    embedding: Float32Array.of(0, 0, 10, 20, 0, 0, 30, 40),
    bias: Float32Array.of(0, 2, 0, 4),
  },
}
const csr = (offsets: number[], rows: number[], numFeatures = 4): ItemFeatures => ({
  numFeatures,
  offsets: Uint32Array.from(offsets),
  rows: Uint32Array.from(rows),
})

describe('itemTable', () => {
  it('adds its feature rows summed over √n; an item without features keeps its id row exactly', () => {
    const table = itemTable(weights, csr([0, 2, 2, 3], [1, 3, 1]))
    const r = Math.SQRT1_2
    const expected = [1 + 40 * r, 2 + 60 * r, 3, 4, 5 + 10, 6 + 20]
    expect([...table.itemEmbedding]).toEqual(expected.map(Math.fround))
    expect([...table.itemBias]).toEqual([0.5 + 6 * r, 1, 1.5 + 2].map(Math.fround))
    expect(table.features).toBeUndefined()
  })

  it('scores items newer than the model by their features alone', () => {
    const table = itemTable(weights, csr([0, 0, 0, 0, 1], [3]))
    expect(table.numItems).toBe(4)
    expect([...table.itemEmbedding.subarray(6)]).toEqual([30, 40])
    expect(table.itemBias[3]).toBe(4)
  })

  it('is the model itself without item features or without a feature table', () => {
    expect(itemTable(weights)).toBe(weights)
    const idOnly = { ...weights, features: undefined }
    expect(itemTable(idOnly)).toBe(idOnly)
  })

  it('composes the same vector as addItemVector, the one CPU composition', () => {
    const f = csr([0, 2, 2, 3], [1, 3, 1])
    const out = new Float32Array(2)
    const bias = addItemVector(weights, f, 0, 0.5, out)
    const table = itemTable(weights, f)
    expect([...out]).toEqual([...table.itemEmbedding.subarray(0, 2)].map((v) => Math.fround(v * 0.5)))
    expect(bias).toBeCloseTo(0.5 * table.itemBias[0]!, 6)
  })
})

describe('checkItemFeatures', () => {
  it('refuses features the model cannot read', () => {
    const { features: _, ...idOnly } = weights
    expect(modelErrorCode(() => checkItemFeatures(idOnly, csr([0, 1], [0])))).toBe('missing_tensor')
    expect(modelErrorCode(() => checkItemFeatures(weights, csr([0, 1], [0], 8)))).toBe('shape_mismatch')
    expect(modelErrorCode(() => checkItemFeatures(weights, csr([0, 2], [0])))).toBe('shape_mismatch')
    expect(modelErrorCode(() => checkItemFeatures(weights, csr([0, 1, 0, 1], [0])))).toBe('shape_mismatch')
    expect(modelErrorCode(() => checkItemFeatures(weights, csr([0, 1], [4])))).toBe('row_out_of_range')
    expect(() => checkItemFeatures(weights, undefined)).not.toThrow()
    expect(() => checkItemFeatures(idOnly, undefined)).not.toThrow()
  })
})
