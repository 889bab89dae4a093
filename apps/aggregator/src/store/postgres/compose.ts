/** The PostgreSQL store over an open pool: every table group on a context, transactions, identity checks. */
import { randomUUID } from 'node:crypto'
import createDebug from 'debug'
import { logError } from '../../error-log.ts'
import { StoreLostError } from '../../errors.ts'
import { asRow, text } from '../rows.ts'
import { STORE_FORMAT } from '../sqlite/schema.ts'
import type { Store, StoreGroups } from '../store.ts'
import { postgresCatalogue } from './catalogue.ts'
import { inTransaction, type PgContext, type PgShared, poolContext } from './context.ts'
import { postgresEvaluations } from './evaluations.ts'
import { postgresMeta } from './meta.ts'
import { postgresModel } from './model.ts'
import { postgresOptimizerState } from './optimizer-state.ts'
import { postgresRejections } from './rejections.ts'
import { postgresRounds } from './rounds.ts'
import {
  POSTGRES_FIRST_VERSION,
  POSTGRES_MIGRATIONS,
  POSTGRES_SCHEMA_SQL,
  POSTGRES_SCHEMA_VERSION,
} from './schema.ts'
import { postgresSecAgg } from './secagg.ts'
import { postgresUpdates } from './updates.ts'

const log = createDebug('fedrec:aggregator:store')

/** The meta key of the random id a store gets at `initialise()`: a database restored as another one differs. */
export const STORE_ID_KEY = 'store_id'

/** Every table group on one context: the pool's, or a transaction's connection. */
function groups(ctx: PgContext, path: string): StoreGroups {
  return {
    ...postgresMeta(ctx),
    ...postgresModel(ctx, path),
    ...postgresOptimizerState(ctx),
    ...postgresRounds(ctx),
    ...postgresUpdates(ctx),
    ...postgresEvaluations(ctx),
    ...postgresRejections(ctx),
    ...postgresCatalogue(ctx),
    secAgg: postgresSecAgg(ctx),
  }
}

/**
 * The store over `shared.pool`; `storeId` is the id read at open (undefined for a new store, set by
 * `initialise`). Closing ends the pool.
 * @example const store = composePostgres(shared, isNew, storeId)
 */
export function composePostgres(shared: PgShared, created: boolean, storeId: string | undefined): Store {
  let isNew = created
  const { pool, path } = shared
  let opened = storeId
  let identityLogged = false

  /** Refuses a database whose store id is not the one opened: restored from another store, or replaced. */
  const checkIdentity = async (ctx: PgContext): Promise<void> => {
    if (opened === undefined) return
    const { rows } = await ctx.query(`SELECT value FROM meta WHERE key = $1`, [STORE_ID_KEY])
    const now = rows.length === 0 ? null : text(asRow(rows[0], 'meta'), 'value', `meta.${STORE_ID_KEY}`)
    if (now === opened) return
    const err = new StoreLostError(
      `store ${path} is no longer the database this aggregator opened (its store id was ${opened}, now ${now ?? 'none'}): it was replaced or restored from another store, so updates are refused; restart the aggregator to open it afresh`,
    )
    if (!identityLogged) logError('store_lost', err, { store: path })
    identityLogged = true
    throw err
  }

  return {
    path,
    get isNew() {
      return isNew
    },
    shared: true,
    ...groups(poolContext(shared), path),

    async initialise(init) {
      const id = randomUUID()
      const created = await inTransaction(shared, async (ctx) => {
        // Replicas started with --init at once all found the database empty: one creates the store under
        // this lock, the others find it made when they get the lock and open it as it is.
        await ctx.query(
          `SELECT pg_advisory_xact_lock(hashtext('fedrec store creation: ' || current_schema()))`,
        )
        const made = await ctx.query(
          `SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'meta'`,
        )
        if (made.rows.length > 0) return false
        await ctx.query(POSTGRES_SCHEMA_SQL)
        for (let v = POSTGRES_FIRST_VERSION; v < POSTGRES_SCHEMA_VERSION; v++)
          await ctx.query(POSTGRES_MIGRATIONS[v] ?? '')
        const tx = groups(ctx, path)
        for (const [key, value] of Object.entries(init.meta)) await tx.setMeta(key, value)
        await tx.setMeta(STORE_ID_KEY, id)
        await tx.setMeta('schema_version', String(POSTGRES_SCHEMA_VERSION))
        // Written last, though the transaction makes the order moot: a database without it is not ours.
        await tx.setMeta('format', STORE_FORMAT)
        await tx.saveModel(init.model)
        await tx.insertRound(init.round)
        return true
      })
      if (created) {
        opened = id
        return
      }
      const { rows } = await poolContext(shared).query(`SELECT value FROM meta WHERE key = $1`, [
        STORE_ID_KEY,
      ])
      opened = text(asRow(rows[0], 'meta'), 'value', `meta.${STORE_ID_KEY}`)
      isNew = false
      log('%s: another aggregator created the store meanwhile; opened it', path)
    },

    transaction(fn) {
      return inTransaction(shared, async (ctx) => {
        await checkIdentity(ctx)
        const token = { running: true }
        try {
          return await shared.inTransaction.run(token, () => fn(groups(ctx, path)))
        } finally {
          token.running = false
        }
      })
    },

    async checkPresent() {
      await checkIdentity(poolContext(shared))
      // Without an id yet (before initialise) reachability is all there is to check.
      if (opened === undefined) await poolContext(shared).query('SELECT 1')
    },

    async close() {
      if (!pool.ended) await pool.end()
    },
  }
}
