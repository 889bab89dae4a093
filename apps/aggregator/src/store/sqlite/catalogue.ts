/** The `pending_items` table on SQLite (checked against the model's `items`). */
import { type CatalogueStore, featuresFromJson } from '../catalogue.ts'
import { asRow, text } from '../rows.ts'
import type { SyncGroup } from './async-groups.ts'
import type { SqliteContext } from './statements.ts'

/** @example sqliteCatalogue(ctx).queueItems(['sku-1', 'sku-2'], new Date().toISOString()) */
export function sqliteCatalogue({ db, sql }: SqliteContext): SyncGroup<CatalogueStore> {
  return {
    pendingItems() {
      return sql(`SELECT item_id FROM pending_items ORDER BY seq`)
        .pluck()
        .all()
        .map((item_id) => text({ item_id }, 'item_id', 'pending_items'))
    },

    queueItems(itemIds, queuedAt, features) {
      const insert = sql(
        `INSERT INTO pending_items (item_id, queued_at, features)
         SELECT @id, @at, @features WHERE NOT EXISTS (SELECT 1 FROM items WHERE item_id = @id)
         ON CONFLICT (item_id) DO NOTHING`,
      )
      let added = 0
      db.transaction(() => {
        for (const id of itemIds) {
          const list = features?.get(id)
          added += insert.run({ id, at: queuedAt, features: list ? JSON.stringify(list) : null }).changes
        }
      })()
      return added
    },

    pendingFeatures() {
      const out = new Map<string, string[]>()
      for (const r of sql(
        `SELECT item_id, features FROM pending_items WHERE features IS NOT NULL ORDER BY seq`,
      ).all()) {
        const row = asRow(r, 'pending_items')
        const id = text(row, 'item_id', 'pending_items')
        out.set(id, featuresFromJson(text(row, 'features', 'pending_items'), id))
      }
      return out
    },

    clearPendingItems() {
      sql(`DELETE FROM pending_items`).run()
    },
  }
}
