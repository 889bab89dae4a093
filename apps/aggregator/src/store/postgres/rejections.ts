/** The `rejections` table on PostgreSQL: one counter per error code. */
import type { RejectionStore } from '../rejections.ts'
import { asRow, int, text } from '../rows.ts'
import type { PgContext } from './context.ts'

/** @example await postgresRejections(ctx).addRejections(new Map([['too_large', 2]])) */
export function postgresRejections({ query, isolated }: PgContext): RejectionStore {
  return {
    async addRejections(counts) {
      // One statement for every code: atomic on its own, as SQLite's transaction made it.
      await isolated(
        `INSERT INTO rejections (code, count) SELECT * FROM unnest($1::text[], $2::bigint[])
         ON CONFLICT (code) DO UPDATE SET count = rejections.count + excluded.count`,
        [[...counts.keys()], [...counts.values()]],
      )
    },

    async rejections() {
      const out: Record<string, number> = {}
      for (const r of (await query(`SELECT code, count FROM rejections ORDER BY code`)).rows) {
        const row = asRow(r, 'rejections')
        out[text(row, 'code', 'rejections')] = int(row, 'count', 'rejections')
      }
      return out
    },
  }
}
