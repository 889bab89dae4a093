/** The `meta` table on SQLite. */
import type { MetaStore } from '../meta.ts'
import { text } from '../rows.ts'
import type { SyncGroup } from './async-groups.ts'
import type { SqliteContext } from './statements.ts'

/** @example const meta = sqliteMeta(ctx); meta.setMeta('salt', salt) */
export function sqliteMeta({ sql }: SqliteContext): SyncGroup<MetaStore> {
  return {
    meta(key) {
      const value = sql(`SELECT value FROM meta WHERE key = ?`).pluck().get(key)
      return value === undefined ? undefined : text({ value }, 'value', `meta.${key}`)
    },

    setMeta(key, value) {
      sql(
        `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ).run(key, value)
    },
  }
}
