/** The `optimizer_state` table on SQLite: one float32 blob per tensor and slot. */
import type { OptimizerStateStore } from '../optimizer-state.ts'
import { floatsToBlob } from '../rows.ts'
import { toOptimizerState } from '../tensor-rows.ts'
import type { SyncGroup } from './async-groups.ts'
import type { SqliteContext } from './statements.ts'

/** @example const state = sqliteOptimizerState(ctx).loadOptimizerState() */
export function sqliteOptimizerState({ sql }: SqliteContext): SyncGroup<OptimizerStateStore> {
  return {
    loadOptimizerState() {
      return toOptimizerState(sql(`SELECT tensor, slot, data FROM optimizer_state`).all())
    },

    saveOptimizerState(state) {
      sql(`DELETE FROM optimizer_state`).run()
      const insert = sql(`INSERT INTO optimizer_state (tensor, slot, data) VALUES (?, ?, ?)`)
      for (const [tensor, { m, v }] of state) {
        if (m) insert.run(tensor, 'm', floatsToBlob(m))
        if (v) insert.run(tensor, 'v', floatsToBlob(v))
      }
    },
  }
}
