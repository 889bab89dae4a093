/** The `Store` contract's part for item features (schema version 9): the model's feature table and rows, queued items' strings. */
import { describe, expect, it } from 'vitest'
import type { StoredFeatures, StoredModel } from './model.ts'
import type { Store } from './store.ts'

/** A feature table of 3 rows over the contract's dim 2, and features for `items` items (the last has none). */
export function contractFeatures(items: number): StoredFeatures {
  const offsets = new Uint32Array(items + 1)
  const rows: number[] = []
  for (let i = 0; i < items; i++) {
    if (i < items - 1) rows.push(i % 3, 2)
    offsets[i + 1] = rows.length
  }
  return {
    table: {
      rows: 3,
      embedding: new Float32Array([0.5, 1, -1, 0.25, 2, -0.125]),
      bias: new Float32Array([0.5, 0, -0.5]),
    },
    items: { numFeatures: 3, offsets, rows: Uint32Array.from(rows) },
  }
}

const plain = (f: StoredFeatures | undefined) =>
  f && {
    rows: f.table.rows,
    embedding: Array.from(f.table.embedding),
    bias: Array.from(f.table.bias),
    offsets: Array.from(f.items.offsets),
    itemRows: Array.from(f.items.rows),
  }

/**
 * Defines the item-feature tests; `fresh` gives a store initialised with the contract's id-only model.
 * @example describeFeatureContract('SQLite', fresh)
 */
export function describeFeatureContract(name: string, fresh: () => Promise<Store>): void {
  describe(`${name} store: item features`, () => {
    it('keeps an id-only model without features, then a model with a feature table and item rows', async () => {
      const store = await fresh()
      const idOnly = await store.loadModel()
      expect(idOnly.features).toBeUndefined()
      const next: StoredModel = {
        ...idOnly,
        version: 1,
        round: 1,
        itemIds: ['i1', 'i2', 'i3', 'i4'],
        itemEmbedding: new Float32Array([1, 2, 3, 4, 5, 6, 0, 0]),
        itemBias: new Float32Array([0.5, 0.25, 0, 0]),
        features: contractFeatures(4),
      }
      await store.saveModel(next)
      const loaded = await store.loadModel()
      expect(plain(loaded.features)).toEqual({
        rows: 3,
        embedding: [0.5, 1, -1, 0.25, 2, -0.125],
        bias: [0.5, 0, -0.5],
        offsets: [0, 2, 4, 6, 6],
        itemRows: [0, 2, 1, 2, 2, 2],
      })
      // Saved once more (the next round's model): the feature table moved, the rows stay.
      const moved = contractFeatures(4)
      moved.table.embedding[0] = -3
      await store.saveModel({ ...next, version: 2, round: 2, features: moved })
      expect((await store.loadModel()).features?.table.embedding[0]).toBe(-3)
    })

    it('refuses a feature table that is not finite or item rows that do not fit, keeping the stored model', async () => {
      const store = await fresh()
      const base = await store.loadModel()
      const bad = contractFeatures(3)
      bad.table.bias[1] = Number.POSITIVE_INFINITY
      await expect(store.saveModel({ ...base, version: 1, features: bad })).rejects.toThrow(
        'model.feature_bias: value Infinity at index 1 is not finite',
      )
      const outside = contractFeatures(3)
      outside.items.rows[0] = 3
      await expect(store.saveModel({ ...base, version: 1, features: outside })).rejects.toThrow(
        "item-feature row 3 is outside the table's 3 rows",
      )
      await expect(store.saveModel({ ...base, version: 1, features: contractFeatures(2) })).rejects.toThrow(
        '3 item-feature offsets for 3 items (expected 4)',
      )
      const loaded = await store.loadModel()
      expect(loaded.version).toBe(0)
      expect(loaded.features).toBeUndefined()
    })

    it('keeps the feature-table rows a version changed beside its item rows', async () => {
      const store = await fresh()
      await store.insertModelChanges({ version: 1, baseItems: 3, rows: new Uint32Array([0]) })
      await store.insertModelChanges({
        version: 2,
        baseItems: 3,
        rows: new Uint32Array([1, 3]),
        featureRows: new Uint32Array([0, 70000]),
      })
      const changes = await store.modelChanges(0)
      expect(
        changes.map((c) => [c.version, Array.from(c.rows), c.featureRows && Array.from(c.featureRows)]),
      ).toEqual([
        [1, [0], undefined],
        [2, [1, 3], [0, 70000]],
      ])
    })

    it('queues items with their feature strings, which go when the queue is cleared', async () => {
      const store = await fresh()
      const at = '2026-03-01T00:00:00.000Z'
      const features = new Map([
        ['n1', ['cat:mugs', 'brand:acme']],
        ['i1', ['cat:ignored']],
      ])
      expect(await store.queueItems(['n1', 'n2', 'i1'], at, features)).toBe(2)
      expect(await store.queueItems(['n1'], at, new Map([['n1', ['cat:other']]]))).toBe(0)
      expect(await store.pendingItems()).toEqual(['n1', 'n2'])
      expect(await store.pendingFeatures()).toEqual(new Map([['n1', ['cat:mugs', 'brand:acme']]]))
      await store.clearPendingItems()
      expect(await store.pendingFeatures()).toEqual(new Map())
    })
  })
}
