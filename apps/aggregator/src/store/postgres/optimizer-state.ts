/** The `optimizer_state` table on PostgreSQL: one float32 BYTEA per tensor and slot. */
import type { OptimizerStateStore } from '../optimizer-state.ts'
import { floatsToBlob } from '../rows.ts'
import { toOptimizerState } from '../tensor-rows.ts'
import type { PgContext } from './context.ts'

/** @example const state = await postgresOptimizerState(ctx).loadOptimizerState() */
export function postgresOptimizerState({ query, atomic }: PgContext): OptimizerStateStore {
  return {
    async loadOptimizerState() {
      return toOptimizerState((await query(`SELECT tensor, slot, data FROM optimizer_state`)).rows)
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
