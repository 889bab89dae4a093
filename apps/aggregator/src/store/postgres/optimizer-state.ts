/** The `optimizer_state` table on PostgreSQL: one float32 BYTEA per tensor and slot. */
import type { OptimizerState, OptimizerStateStore } from '../optimizer-state.ts'
import { asRow, blob, floatsFromBlob, floatsToBlob, StoreCorruptError, text } from '../rows.ts'
import type { PgContext } from './context.ts'

/** @example const state = await postgresOptimizerState(ctx).loadOptimizerState() */
export function postgresOptimizerState({ query, atomic }: PgContext): OptimizerStateStore {
  return {
    async loadOptimizerState() {
      const state: OptimizerState = new Map()
      for (const r of (await query(`SELECT tensor, slot, data FROM optimizer_state`)).rows) {
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
      return atomic(async (tx) => {
        await tx.query(`DELETE FROM optimizer_state`)
        for (const [tensor, { m, v }] of state) {
          for (const [slot, values] of [
            ['m', m],
            ['v', v],
          ] as const)
            if (values)
              await tx.query(`INSERT INTO optimizer_state (tensor, slot, data) VALUES ($1, $2, $3)`, [
                tensor,
                slot,
                floatsToBlob(values),
              ])
        }
      })
    },
  }
}
