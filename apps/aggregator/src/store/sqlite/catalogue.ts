/** The `pending_items` table on SQLite (checked against the model's `items`). */
import type { CatalogueStore } from '../catalogue.ts'
import { text } from '../rows.ts'
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

    queueItems(itemIds, queuedAt) {
      const insert = sql(
        `INSERT INTO pending_items (item_id, queued_at)
         SELECT @id, @at WHERE NOT EXISTS (SELECT 1 FROM items WHERE item_id = @id)
         ON CONFLICT (item_id) DO NOTHING`,
      )
      let added = 0
      db.transaction(() => {
        for (const id of itemIds) added += insert.run({ id, at: queuedAt }).changes
      })()
      return added
    },

    clearPendingItems() {
      sql(`DELETE FROM pending_items`).run()
    },
  }
}
