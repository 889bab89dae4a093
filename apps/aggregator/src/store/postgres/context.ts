/** The connection a PostgreSQL table group runs its SQL on: any pooled one, or the one of a transaction. */
import type { AsyncLocalStorage } from 'node:async_hooks'
import createDebug from 'debug'
import type pg from 'pg'
import { storeError } from './errors.ts'

const log = createDebug('fedrec:aggregator:store')

/** A statement's rows (each checked by rows.ts before use) and how many rows it wrote. */
export interface PgResult {
  rows: unknown[]
  rowCount: number
}

/** What a PostgreSQL table group is built on. */
export interface PgContext {
  /** Runs one statement: on its own connection (autocommit), or on the transaction's. */
  query(text: string, values?: unknown[]): Promise<PgResult>
  /**
   * Runs `fn` all or nothing: in a transaction of its own outside one, in a savepoint inside one (so that a
   * failed group write rolls back alone, as SQLite's nested transactions do, and the caller may go on).
   */
  atomic<T>(fn: (ctx: PgContext) => Promise<T>): Promise<T>
  /**
   * Runs one statement that may fail without aborting the caller's transaction (PostgreSQL aborts a whole
   * transaction on any error; SQLite rolls back the failed statement only): inside a transaction in a
   * savepoint of its own, outside one as a statement, which is atomic by itself. For the group writes that
   * are transactions of their own on SQLite, so nest as savepoints there.
   */
  isolated(text: string, values?: unknown[]): Promise<PgResult>
  /** Rows of a query `batch` at a time, through a server-side cursor: never all of them in memory. */
  cursor(text: string, values: unknown[], batch: number): AsyncIterable<unknown[]>
}

/** What every context of one store shares. */
export interface PgShared {
  readonly pool: pg.Pool
  /** The store's URL without its password, for messages. */
  readonly path: string
  /** Whether the current loss of the server was logged already. */
  readonly lost: { lostLogged: boolean }
  /**
   * Inside a `transaction(fn)`, a token that is `running` until `fn` settles: the store itself refuses to be
   * called from there. A timer `fn` armed keeps the token, spent by then, so it may use the store.
   */
  readonly inTransaction: AsyncLocalStorage<{ running: boolean }>
}

async function run(
  shared: PgShared,
  runner: pg.Pool | pg.PoolClient,
  text: string,
  values: unknown[] = [],
): Promise<PgResult> {
  try {
    const result = await runner.query(text, values)
    shared.lost.lostLogged = false
    return { rows: result.rows, rowCount: result.rowCount ?? 0 }
  } catch (err) {
    throw storeError(err, shared.path, shared.lost)
  }
}

/**
 * The context outside transactions: each statement on any pooled connection.
 * @example const rows = (await poolContext(shared).query(`SELECT value FROM meta WHERE key = $1`, ['salt'])).rows
 */
export function poolContext(shared: PgShared): PgContext {
  const refuseInsideTransaction = (): void => {
    if (shared.inTransaction.getStore()?.running)
      throw new Error(
        `store ${shared.path} was called directly inside its own transaction(fn): use the groups fn was given (on another connection this would run outside the transaction, or wait for it forever)`,
      )
  }
  return {
    query(text, values) {
      refuseInsideTransaction()
      return run(shared, shared.pool, text, values)
    },
    isolated(text, values) {
      refuseInsideTransaction()
      return run(shared, shared.pool, text, values)
    },
    atomic(fn) {
      refuseInsideTransaction()
      return inTransaction(shared, fn)
    },
    async *cursor(text, values, batch) {
      refuseInsideTransaction()
      // A cursor lives in a transaction: a read-only one of its own, on a connection held until the end.
      const { client, release } = await checkout(shared)
      let done = false
      try {
        await run(shared, client, 'BEGIN READ ONLY')
        yield* clientCursor(shared, client, 'payloads', text, values, batch)
        await run(shared, client, 'COMMIT')
        done = true
      } finally {
        // Stopped early or failed: roll back; a connection that cannot even do that is dropped, not reused.
        release(!done && !(await endTransaction(shared, client)))
      }
    },
  }
}

/** Rolls back whatever is open on `client`; false when that failed (the connection is then dropped). */
async function endTransaction(shared: PgShared, client: pg.PoolClient): Promise<boolean> {
  try {
    await run(shared, client, 'ROLLBACK')
    return true
  } catch {
    return false
  }
}

/** A connection taken from the pool, and how to give it back (`destroy`: close it instead). */
interface Checkout {
  client: pg.PoolClient
  release(destroy: boolean): void
}

async function checkout(shared: PgShared): Promise<Checkout> {
  let client: pg.PoolClient
  try {
    client = await shared.pool.connect()
  } catch (err) {
    throw storeError(err, shared.path, shared.lost)
  }
  // The pool listens for errors on idle connections only: one cut between two statements of a transaction
  // would otherwise be an unhandled 'error' event, ending the process. Its next statement fails and says why.
  const onError = (err: Error): void =>
    log('%s: connection lost while checked out (%s)', shared.path, err.message)
  client.on('error', onError)
  return {
    client,
    release(destroy) {
      client.removeListener('error', onError)
      client.release(destroy)
    },
  }
}

/**
 * Runs `fn` in one transaction on one pooled connection: COMMIT when its promise resolves, ROLLBACK (and
 * the same rejection) when it rejects.
 * @example await inTransaction(shared, async (tx) => { await tx.query(`DELETE FROM model`) })
 */
export async function inTransaction<T>(shared: PgShared, fn: (ctx: PgContext) => Promise<T>): Promise<T> {
  const { client, release } = await checkout(shared)
  let destroy = false
  try {
    await run(shared, client, 'BEGIN')
    const result = await fn(clientContext(shared, client))
    await run(shared, client, 'COMMIT')
    return result
  } catch (err) {
    // If even the rollback fails the connection is gone; the server rolls back what it had.
    destroy = !(await endTransaction(shared, client))
    throw err
  } finally {
    release(destroy)
  }
}

/** The context inside a transaction: every statement on its connection, groups' own transactions as savepoints. */
function clientContext(shared: PgShared, client: pg.PoolClient): PgContext {
  let names = 0
  const ctx: PgContext = {
    query: (text, values) => run(shared, client, text, values),
    async atomic(fn) {
      const savepoint = `group_${++names}`
      await run(shared, client, `SAVEPOINT ${savepoint}`)
      try {
        const result = await fn(ctx)
        await run(shared, client, `RELEASE SAVEPOINT ${savepoint}`)
        return result
      } catch (err) {
        // The caller's transaction stays usable; if this fails too, its COMMIT will fail and say why.
        await run(shared, client, `ROLLBACK TO SAVEPOINT ${savepoint}`).catch(() => undefined)
        throw err
      }
    },
    isolated: (text, values) => ctx.atomic((tx) => tx.query(text, values)),
    cursor: (text, values, batch) => clientCursor(shared, client, `cursor_${++names}`, text, values, batch),
  }
  return ctx
}

async function* clientCursor(
  shared: PgShared,
  client: pg.PoolClient,
  name: string,
  text: string,
  values: unknown[],
  batch: number,
): AsyncGenerator<unknown[]> {
  await run(shared, client, `DECLARE ${name} NO SCROLL CURSOR FOR ${text}`, values)
  let open = true
  try {
    while (open) {
      const { rows } = await run(shared, client, `FETCH ${batch} FROM ${name}`)
      open = rows.length === batch
      if (rows.length > 0) yield rows
    }
  } finally {
    // Stopped early: close the cursor so the transaction can go on (after an error it is rolled back anyway).
    if (open) await run(shared, client, `CLOSE ${name}`).catch(() => undefined)
  }
}
