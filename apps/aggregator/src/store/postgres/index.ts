/**
 * The aggregator's store on PostgreSQL: the `Store` interface (../store.ts) over a connection pool, one file
 * per table group, the same tables as the SQLite store (schema.ts says how their types differ). This file
 * opens the database, checks that it is a fedrec store of a version this aggregator reads, and composes the
 * groups (compose.ts).
 *
 * Durability: every connection runs with `synchronous_commit = on`, so a commit (and the ack sent after it)
 * survives a crash of the database server. A lost connection is a StoreLostError (the aggregator answers
 * 503); a database restored as another store is caught by the store id kept in `meta`.
 *
 * Transactions: `transaction(fn)` runs `fn` on one pooled connection (READ COMMITTED). PostgreSQL aborts a
 * whole transaction on any failed statement, where SQLite undoes only that statement: the group writes that
 * are transactions of their own on SQLite (`insertEvaluation`, `addRejections`, `queueItems`, and the
 * multi-statement `saveModel`, `saveOptimizerState`, `resetRound`) run in savepoints, so a caller may catch
 * their failure and go on; any other failed statement ends the transaction, which then rolls back. Two
 * transactions writing the same key: the second waits for the first, and gets a StoreConflictError if it
 * committed.
 */

import { AsyncLocalStorage } from 'node:async_hooks'
import createDebug from 'debug'
import pg from 'pg'
import { StartupError } from '../../errors.ts'
import { STORE_FORMAT } from '../sqlite/schema.ts'
import type { Store } from '../store.ts'
import { composePostgres, STORE_ID_KEY } from './compose.ts'
import type { PgShared } from './context.ts'
import { POSTGRES_FIRST_VERSION, POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from './schema.ts'

export { StoreConflictError } from './errors.ts'

const log = createDebug('fedrec:aggregator:store')

/** PostgreSQL's type oid of BIGINT (int8). */
const INT8_OID = 20

/**
 * BIGINT as a bigint, not node-postgres's default string: rows.ts `int` accepts a bigint while it is a safe
 * integer and refuses it otherwise, so a count never silently loses precision.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => BigInt(value)
      : pg.types.getTypeParser(oid, format),
}

/**
 * Opens the PostgreSQL store at `url` (`postgresql://user:password@host:port/database`). A database that is
 * unreachable, that has tables but is not a fedrec aggregator store, that is of a newer schema version, or
 * that is empty without `create`, is refused with a StartupError: never a silent fresh model over an
 * operator's data. An empty database with `create` is a new store: call `initialise()`.
 * @example
 * const store = await openPostgresStore('postgresql://fedrec@db:5432/fedrec', { create: true })
 * if (store.isNew) await store.initialise({ meta, model, round })
 */
export async function openPostgresStore(
  url: string,
  { create = true }: { create?: boolean } = {},
): Promise<Store> {
  const parsed = parseUrl(url)
  const path = withoutPassword(parsed)
  // The URL's own server options (`?options=-c search_path=fedrec`, say) are kept, with ours last, so ours
  // win. They are taken out of the URL because node-postgres lets a URL's parameters override the config.
  const given = parsed.searchParams.get('options')
  const connectionUrl = new URL(parsed)
  connectionUrl.searchParams.delete('options')
  const pool = new pg.Pool({
    connectionString: connectionUrl.toString(),
    // Set on every connection, whatever the server's or role's default: an ack means a durable commit.
    options: `${given ? `${given} ` : ''}-c synchronous_commit=on`,
    types,
    // A server that does not answer must become a StoreLostError (503), not a request that hangs.
    connectionTimeoutMillis: 10_000,
  })
  // An idle connection the server cut (a restart, a failover) is dropped from the pool; the next query opens
  // a fresh one. Without a listener the error would end the process.
  pool.on('error', (err) => log('%s: idle connection lost (%s)', path, err.message))
  const shared: PgShared = { pool, path, lost: { lostLogged: false }, inTransaction: new AsyncLocalStorage() }
  try {
    const { isNew, storeId } = await inspect(pool, path, create)
    log('%s: %s', path, isNew ? 'an empty database: creating a fresh store' : 'opened')
    return composePostgres(shared, isNew, storeId)
  } catch (err) {
    await pool.end()
    throw err
  }
}

/** `url` as a URL of PostgreSQL. */
function parseUrl(url: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (err) {
    throw new StartupError(`store URL is not a URL (expected postgresql://user@host:port/database)`, {
      cause: err,
    })
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:')
    throw new StartupError(
      `store URL ${parsed.protocol}//… is not a PostgreSQL URL (expected postgresql://user@host:port/database)`,
    )
  return parsed
}

/** The URL as messages may show it: without its password. */
function withoutPassword(url: URL): string {
  const shown = new URL(url)
  shown.password = ''
  return shown.toString()
}

/** Connects once and reads what the database holds: nothing (a new store), or a fedrec store of a readable version. */
async function inspect(
  pool: pg.Pool,
  path: string,
  create: boolean,
): Promise<{ isNew: boolean; storeId: string | undefined }> {
  let client: pg.PoolClient
  try {
    client = await pool.connect()
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw new StartupError(
      `store ${path} is not reachable (${reason}); check the URL and that the server runs`,
      {
        cause: err,
      },
    )
  }
  try {
    const commit: unknown = (await client.query(`SHOW synchronous_commit`)).rows[0]?.synchronous_commit
    if (commit !== 'on')
      throw new StartupError(
        `store ${path}: synchronous_commit is ${String(commit)}, not on; an ack must mean a durable commit`,
      )
    const tables = (
      await client.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
      )
    ).rows
    if (tables.length === 0) {
      if (!create)
        throw new StartupError(
          `store ${path} is an empty database (no tables). If this is the first start, pass --init to create a fresh model there; ` +
            'otherwise restore the database from a backup (or point the aggregator at the right one): starting afresh would lose every round so far',
        )
      return { isNew: true, storeId: undefined }
    }
    const meta = await readMeta(client, tables)
    const version = checkFormat(path, meta)
    if (version < POSTGRES_SCHEMA_VERSION) await migrate(client, path, version)
    return { isNew: false, storeId: meta.get(STORE_ID_KEY) }
  } finally {
    client.release()
  }
}

/** The `meta` table as a map (empty when there is none), every value checked to be text. */
async function readMeta(client: pg.PoolClient, tables: unknown[]): Promise<Map<string, string>> {
  const hasMeta = tables.some(
    (t) => typeof t === 'object' && t !== null && Reflect.get(t, 'table_name') === 'meta',
  )
  const meta = new Map<string, string>()
  if (!hasMeta) return meta
  for (const row of (await client.query(`SELECT key, value FROM meta`)).rows) {
    const { key, value }: { key: unknown; value: unknown } = row
    if (typeof key === 'string' && typeof value === 'string') meta.set(key, value)
  }
  return meta
}

/** Checks that `meta` is a fedrec store's of a version this aggregator reads; returns that version. */
function checkFormat(path: string, meta: ReadonlyMap<string, string>): number {
  const format = meta.get('format')
  if (format !== STORE_FORMAT)
    throw new StartupError(
      `store ${path} is a PostgreSQL database but not a fedrec aggregator store (meta.format is ${JSON.stringify(format ?? null)}); refusing to touch it`,
    )
  const raw = meta.get('schema_version')
  const version = Number(raw)
  // No PostgreSQL store was written before POSTGRES_FIRST_VERSION: an older number is not one of ours.
  if (!Number.isInteger(version) || version < POSTGRES_FIRST_VERSION || version > POSTGRES_SCHEMA_VERSION)
    throw new StartupError(
      `store ${path} has schema version ${JSON.stringify(raw ?? null)}; this aggregator reads PostgreSQL stores of versions ${POSTGRES_FIRST_VERSION} to ${POSTGRES_SCHEMA_VERSION}`,
    )
  return version
}

/**
 * Runs the migrations from `from` to POSTGRES_SCHEMA_VERSION in one transaction: all of them or none. The
 * version is re-read under a lock on `meta`, so two aggregators starting on one old store migrate it once.
 */
async function migrate(client: pg.PoolClient, path: string, from: number): Promise<void> {
  await client.query('BEGIN')
  try {
    await client.query(`LOCK TABLE meta IN EXCLUSIVE MODE`)
    const raw: unknown = (await client.query(`SELECT value FROM meta WHERE key = 'schema_version'`)).rows[0]
      ?.value
    for (let v = Number(raw); v < POSTGRES_SCHEMA_VERSION; v++) {
      const sql = POSTGRES_MIGRATIONS[v]
      if (sql === undefined) throw new StartupError(`no migration from schema version ${v}`)
      await client.query(sql)
    }
    await client.query(`UPDATE meta SET value = $1 WHERE key = 'schema_version'`, [
      String(POSTGRES_SCHEMA_VERSION),
    ])
    await client.query('COMMIT')
    log('%s: migrated from schema version %d to %d', path, from, POSTGRES_SCHEMA_VERSION)
  } catch (err) {
    await client.query('ROLLBACK')
    throw err
  }
}
