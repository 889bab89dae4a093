/** The `optimizer_state` table on SQLite: one float32 blob per tensor and slot. */
import type { OptimizerState, OptimizerStateStore } from '../optimizer-state.ts'
import { asRow, blob, floatsFromBlob, floatsToBlob, StoreCorruptError, text } from '../rows.ts'
import type { SyncGroup } from './async-groups.ts'
import type { SqliteContext } from './statements.ts'

/** @example const state = sqliteOptimizerState(ctx).loadOptimizerState() */
export function sqliteOptimizerState({ sql }: SqliteContext): SyncGroup<OptimizerStateStore> {
  return {
    loadOptimizerState() {
      const state: OptimizerState = new Map()
      for (const r of sql(`SELECT tensor, slot, data FROM optimizer_state`).all()) {
        const row = asRow(r, 'optimizer_state')
        const tensor = text(row, 'tensor', 'optimizer_state')
        const slot = text(row, 'slot', 'optimizer_state')
        if (slot !== 'm' && slot !== 'v') throw new StoreCorruptError(`optimizer_state: unknown slot ${slot}`)
        const bytes = blob(row, 'data', 'optimizer_state')
        const entry = state.get(tensor) ?? {}
        entry[slot] = floatsFromBlob(bytes, bytes.byteLength / 4, `optimizer_state.${tensor}.${slot}`)
        state.set(tensor, entry)
      }
      return state
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
