/** The `rejections` table on SQLite: one counter per error code. */
import type { RejectionStore } from '../rejections.ts'
import { asRow, int, text } from '../rows.ts'
import type { SyncGroup } from './async-groups.ts'
import type { SqliteContext } from './statements.ts'

/** @example sqliteRejections(ctx).addRejections(new Map([['too_large', 2]])) */
export function sqliteRejections({ db, sql }: SqliteContext): SyncGroup<RejectionStore> {
  return {
    addRejections(counts) {
      const add = sql(
        `INSERT INTO rejections (code, count) VALUES (?, ?) ON CONFLICT (code) DO UPDATE SET count = count + excluded.count`,
      )
      db.transaction(() => {
        for (const [code, n] of counts) add.run(code, n)
      })()
    },

    rejections() {
      const out: Record<string, number> = {}
      for (const r of sql(`SELECT code, count FROM rejections ORDER BY code`).all()) {
        const row = asRow(r, 'rejections')
        out[text(row, 'code', 'rejections')] = int(row, 'count', 'rejections')
      }
      return out
    },
  }
}
