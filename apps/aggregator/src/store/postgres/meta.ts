/** The `meta` table on PostgreSQL. */
import type { MetaStore } from '../meta.ts'
import { asRow, text } from '../rows.ts'
import type { PgContext } from './context.ts'
import { first } from './queries.ts'

/** @example const salt = await postgresMeta(ctx).meta('salt') */
export function postgresMeta({ query }: PgContext): MetaStore {
  return {
    meta: (key) =>
      first(query, `SELECT value FROM meta WHERE key = $1`, [key], (row) =>
        text(asRow(row, 'meta'), 'value', `meta.${key}`),
      ),

    async setMeta(key, value) {
      await query(
        `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [key, value],
      )
    },
  }
}
