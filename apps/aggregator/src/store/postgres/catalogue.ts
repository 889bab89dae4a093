/** The `pending_items` table on PostgreSQL (checked against the model's `items`). */
import { type CatalogueStore, featuresFromJson } from '../catalogue.ts'
import { asRow, text } from '../rows.ts'
import type { PgContext } from './context.ts'

/** @example await postgresCatalogue(ctx).queueItems(['sku-1', 'sku-2'], new Date().toISOString()) */
export function postgresCatalogue({ query, isolated }: PgContext): CatalogueStore {
  return {
    async pendingItems() {
      const { rows } = await query(`SELECT item_id FROM pending_items ORDER BY seq`)
      return rows.map((r) => text(asRow(r, 'pending_items'), 'item_id', 'pending_items'))
    },

    async queueItems(itemIds, queuedAt, features) {
      // One statement, in the given order; a repeated id conflicts with its first copy and is skipped.
      const lists = itemIds.map((id) => {
        const list = features?.get(id)
        return list ? JSON.stringify(list) : null
      })
      const { rowCount } = await isolated(
        `INSERT INTO pending_items (item_id, queued_at, features)
         SELECT id, $2, f FROM unnest($1::text[], $3::text[]) WITH ORDINALITY AS queued (id, f, n)
         WHERE NOT EXISTS (SELECT 1 FROM items WHERE item_id = queued.id)
         ORDER BY n
         ON CONFLICT (item_id) DO NOTHING`,
        [[...itemIds], queuedAt, lists],
      )
      return rowCount
    },

    async pendingFeatures() {
      const { rows } = await query(
        `SELECT item_id, features FROM pending_items WHERE features IS NOT NULL ORDER BY seq`,
      )
      const out = new Map<string, string[]>()
      for (const r of rows) {
        const row = asRow(r, 'pending_items')
        const id = text(row, 'item_id', 'pending_items')
        out.set(id, featuresFromJson(text(row, 'features', 'pending_items'), id))
      }
      return out
    },

    async clearPendingItems() {
      await query(`DELETE FROM pending_items`)
    },
  }
}
