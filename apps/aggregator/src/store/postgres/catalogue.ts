/** The `pending_items` table on PostgreSQL (checked against the model's `items`). */
import type { CatalogueStore } from '../catalogue.ts'
import { asRow, text } from '../rows.ts'
import type { PgContext } from './context.ts'

/** @example await postgresCatalogue(ctx).queueItems(['sku-1', 'sku-2'], new Date().toISOString()) */
export function postgresCatalogue({ query, isolated }: PgContext): CatalogueStore {
  return {
    async pendingItems() {
      const { rows } = await query(`SELECT item_id FROM pending_items ORDER BY seq`)
      return rows.map((r) => text(asRow(r, 'pending_items'), 'item_id', 'pending_items'))
    },

    async queueItems(itemIds, queuedAt) {
      // One statement, in the given order; a repeated id conflicts with its first copy and is skipped.
      const { rowCount } = await isolated(
        `INSERT INTO pending_items (item_id, queued_at)
         SELECT id, $2 FROM unnest($1::text[]) WITH ORDINALITY AS queued (id, n)
         WHERE NOT EXISTS (SELECT 1 FROM items WHERE item_id = queued.id)
         ORDER BY n
         ON CONFLICT (item_id) DO NOTHING`,
        [[...itemIds], queuedAt],
      )
      return rowCount
    },

    async clearPendingItems() {
      await query(`DELETE FROM pending_items`)
    },
  }
}
