// The item-feature columns of a stored model, read back: what either backend returns is checked, and a
// damaged table is a StoreCorruptError naming what is wrong, never a model used as it is.
import { describe, expect, it } from 'vitest'
import { featureColumns, featuresFromRow, uintsToBlob } from './feature-columns.ts'
import type { StoredModel } from './model.ts'
import { floatsToBlob, StoreCorruptError } from './rows.ts'

const DIM = 2
// Three items: item 0 has feature rows 0 and 2, item 1 none, item 2 row 1; F = 3.
const model: StoredModel = {
  version: 0,
  round: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  dim: DIM,
  itemIds: ['a', 'b', 'c'],
  itemEmbedding: new Float32Array(3 * DIM),
  itemBias: new Float32Array(3),
  features: {
    table: { rows: 3, embedding: Float32Array.from([1, 2, 3, 4, 5, 6]), bias: Float32Array.from([7, 8, 9]) },
    items: { numFeatures: 3, offsets: Uint32Array.from([0, 2, 2, 3]), rows: Uint32Array.from([0, 2, 1]) },
  },
}

const row = (): Record<string, unknown> => ({ ...featureColumns(model) })

describe('featuresFromRow', () => {
  it('reads back what featureColumns wrote, and nothing for an id-only model', () => {
    expect(featuresFromRow(row(), 3, DIM)).toEqual(model.features)
    expect(featuresFromRow(featureColumns({ ...model, features: undefined }), 3, DIM)).toBeUndefined()
  })

  const damaged: [string, (r: Record<string, unknown>) => void, string][] = [
    ['columns partly NULL', (r) => (r.feature_bias = null), 'must be all set or all NULL'],
    [
      'an embedding blob of the wrong length',
      (r) => (r.feature_embedding = floatsToBlob(new Float32Array(5))),
      'feature_embedding',
    ],
    [
      'offsets that are not uint32',
      (r) => (r.item_feature_offsets = Buffer.alloc(7)),
      'is not a list of uint32',
    ],
    [
      'one offset too few',
      (r) => (r.item_feature_offsets = uintsToBlob(Uint32Array.from([0, 2, 3]))),
      '3 item-feature offsets for 3 items',
    ],
    [
      'descending offsets',
      (r) => (r.item_feature_offsets = uintsToBlob(Uint32Array.from([0, 2, 1, 3]))),
      'offsets must ascend',
    ],
    [
      'a row outside the table',
      (r) => (r.item_feature_rows = uintsToBlob(Uint32Array.from([0, 2, 3]))),
      'row 3 is outside',
    ],
    [
      'a bias blob of the wrong length',
      (r) => (r.feature_bias = floatsToBlob(new Float32Array(2))),
      'feature_bias',
    ],
  ]
  it.each(damaged)('refuses %s as a corrupt store', (_, damage, message) => {
    const r = row()
    damage(r)
    const read = () => featuresFromRow(r, 3, DIM)
    expect(read).toThrow(StoreCorruptError)
    expect(read).toThrow(message)
  })
})
