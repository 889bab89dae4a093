/**
 * The aggregator's durable store: the async `Store` interface (store.ts), made of one interface per table
 * group (model.ts, rounds.ts, updates.ts, …, each with its record types), and its SQLite implementation, one
 * file per group in sqlite/ over a shared statement cache. This file opens the SQLite file, checks its format,
 * migrates it, and composes the groups with `transaction()`.
 *
 * SQLite: one file (WAL, `synchronous = FULL`: a committed transaction survives a crash or power cut, so an
 * ack means durable), locked exclusively by the one aggregator that owns it. better-sqlite3 is synchronous:
 * the groups are written synchronously (SyncGroup) and answer through resolved Promises (async-groups.ts).
 * One connection means one transaction at a time: `transaction(fn)` and every call on the outer store take
 * turns through one queue (createSerial), each outer call its own transaction; a call on the outer store from
 * inside `fn` would wait for itself and is refused with an Error naming the method (sqlite/runners.ts). The
 * groups' own transactions (`addRejections`, `insertEvaluation`, `queueItems`) nest as savepoints inside one.
 * The aggregator does not rely on any of this for its own consistency: it serialises its state changes
 * itself (AggregatorState.serial), as it must on a server database too.
 *
 * What a server-database implementation (PostgreSQL, say) needs beside this one:
 * - Transactions bound to one pooled connection: `transaction(fn)` hands `fn` the groups on that connection
 *   (BEGIN … COMMIT, ROLLBACK when `fn` rejects), while outer calls run on any connection of the pool. Its
 *   group methods that write several statements (`addRejections`, `insertEvaluation`, `queueItems`,
 *   `resetRound`, `closeRound`, `endCohort`, `insertMessage`, `saveModel`) need their own transaction (or
 *   savepoint) when called outside one.
 * - `roundPayloads` as an `AsyncIterable` over a cursor (or pages), so a large round is never all in memory.
 * - One owner: SQLite's exclusive lock keeps a second aggregator from double-counting rounds; a server
 *   database needs the same, e.g. a session-level advisory lock held while the aggregator runs, refused at
 *   open as "in use" like a locked file — until the aggregator's per-process lock becomes a shared one.
 * - Its own DDL and migrations, numbered by the same SCHEMA_VERSION and checked by the same `meta.format`,
 *   with commits that are durable before an ack (`synchronous_commit = on`).
 * - An answer to `checkPresent()`: here it catches a file deleted or replaced under the running process; there,
 *   a lost connection or a database restored to another identity (a store id kept in `meta`).
 * - The same row checks (rows.ts): rows arrive as `unknown` from any driver (node-postgres returns a BIGINT
 *   as a string, which `int` would have to accept).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import createDebug from 'debug'
import { StartupError } from '../errors.ts'
import { createSerial } from '../serial.ts'
import type { SecAggStore } from './secagg.ts'
import { asyncGroup, type GroupRunner, type SyncGroup } from './sqlite/async-groups.ts'
import { sqliteCatalogue } from './sqlite/catalogue.ts'
import { sqliteEvaluations } from './sqlite/evaluations.ts'
import { checkWritable, presenceCheck } from './sqlite/file-guard.ts'
import { sqliteMeta } from './sqlite/meta.ts'
import { sqliteModel } from './sqlite/model.ts'
import { sqliteOptimizerState } from './sqlite/optimizer-state.ts'
import { sqliteRejections } from './sqlite/rejections.ts'
import { sqliteRounds } from './sqlite/rounds.ts'
import { insideTurn, outerRunner, transactionRunner } from './sqlite/runners.ts'
import { MIGRATIONS, SCHEMA_SQL, SCHEMA_VERSION, STORE_FORMAT } from './sqlite/schema.ts'
import { sqliteSecAgg } from './sqlite/secagg.ts'
import { createSqliteContext, type SqliteContext } from './sqlite/statements.ts'
import { sqliteUpdates } from './sqlite/updates.ts'
import type { Store, StoreGroups, StoreInit } from './store.ts'

export type { CatalogueStore } from './catalogue.ts'
export type { EvaluationReport, EvaluationStore, EvaluationTotals } from './evaluations.ts'
export type { MetaStore } from './meta.ts'
export type { ModelChanges, ModelStore, StoredFeatures, StoredModel } from './model.ts'
export type { OptimizerState, OptimizerStateStore } from './optimizer-state.ts'
export { StoreConflictError } from './postgres/errors.ts'
export type { RejectionStore } from './rejections.ts'
export type { PrivacyRound, RoundClosing, RoundRecord, RoundStore } from './rounds.ts'
export { StoreCorruptError } from './rows.ts'
export type { CohortRecord, MemberRecord, SecAggStore } from './secagg.ts'
export { SCHEMA_VERSION, STORE_FORMAT } from './sqlite/schema.ts'
export type { AggregatorStore, Store, StoreInit, StoreTransaction } from './store.ts'
export type { UpdateRecord, UpdateStore } from './updates.ts'

const log = createDebug('fedrec:aggregator:store')

/**
 * Opens the store at `path` (`':memory:'` for tests), creating it only when `create` is true. A file that
 * is missing (without `create`), is not a fedrec aggregator store, is of a newer schema version, or is
 * corrupt is refused with a `StartupError`: never a silent fresh model over an operator's data. A store
 * of an older schema version is migrated.
 * @example
 * const store = openStore('.fedrec/aggregator.sqlite', { create: true })
 * if (store.isNew) await store.initialise({ meta, model, round })
 */
export function openStore(path: string, { create = true }: { create?: boolean } = {}): Store {
  const inMemory = path === ':memory:'
  const existed = !inMemory && existsSync(path)
  if (!inMemory && !existed && !create) {
    throw new StartupError(
      `store ${path} does not exist. If this is the first start, pass --init to create a fresh model there; ` +
        'otherwise restore the file (or mount the volume that holds it): starting afresh would lose every round so far',
    )
  }
  if (existed && statSync(path).size === 0 && !create) {
    // An empty file is what a failed copy or a truncating restore leaves: not a store, and not a first start
    // either, so it is treated like a missing one.
    throw new StartupError(
      `store ${path} is an empty file (0 bytes), not a store. If this is the first start, pass --init to create a fresh model there; ` +
        'otherwise restore the file from a backup: starting afresh would lose every round so far',
    )
  }
  if (existed) checkWritable(path)
  if (!inMemory && !existed) mkdirSync(dirname(path), { recursive: true })
  let db: Database.Database | undefined
  let tables: unknown[]
  try {
    // Only this process uses the file (exclusive lock below): waiting on a lock means another aggregator.
    db = new Database(path, { fileMustExist: existed, timeout: 200 })
    // Exclusive locking: a second aggregator on the same file would double-count rounds. With WAL this
    // also keeps the shared-memory index private to this process.
    db.pragma('locking_mode = EXCLUSIVE')
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    const check = db.pragma('quick_check', { simple: true })
    if (check !== 'ok') throw new Error(`integrity check failed: ${String(check)}`)
    tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all()
  } catch (err) {
    db?.close()
    const reason = err instanceof Error ? err.message : String(err)
    const busy = /locked|busy/i.test(reason)
    throw new StartupError(
      busy
        ? `store ${path} is in use by another process (${reason})`
        : `store ${path} is not a readable SQLite database (${reason}); refusing to start with a fresh model over it — move it away or choose another --store`,
      { cause: err },
    )
  }
  const isNew = tables.length === 0
  if (isNew) {
    log('%s %s: creating a fresh store', path, existed ? 'is an empty database' : 'does not exist')
  } else {
    try {
      checkFormat(db)
    } catch (err) {
      db.close()
      throw err
    }
  }
  return compose(db, path, isNew)
}

function checkFormat(db: Database.Database): void {
  const hasMeta = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get()
  const format = hasMeta ? db.prepare(`SELECT value FROM meta WHERE key = 'format'`).pluck().get() : undefined
  if (format !== STORE_FORMAT) {
    throw new StartupError(
      `store ${db.name} is a SQLite database but not a fedrec aggregator store (meta.format is ${JSON.stringify(format ?? null)}); refusing to touch it`,
    )
  }
  const raw = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get()
  const version = Number(raw)
  if (!Number.isInteger(version) || version < 1 || version > SCHEMA_VERSION) {
    throw new StartupError(
      `store ${db.name} has schema version ${JSON.stringify(raw ?? null)}; this aggregator reads versions 1 to ${SCHEMA_VERSION}`,
    )
  }
  if (version < SCHEMA_VERSION) {
    migrate(db, version)
    log('%s: migrated from schema version %d to %d', db.name, version, SCHEMA_VERSION)
  }
}

/** Runs the migrations from `from` to SCHEMA_VERSION in one transaction: all of them or none. */
function migrate(db: Database.Database, from: number): void {
  db.transaction(() => {
    for (let v = from; v < SCHEMA_VERSION; v++) {
      const sql = MIGRATIONS[v]
      if (sql === undefined) throw new StartupError(`no migration from schema version ${v}`)
      db.exec(sql)
    }
    db.prepare(`UPDATE meta SET value = ? WHERE key = 'schema_version'`).run(String(SCHEMA_VERSION))
  })()
}

/** The SQLite store over an open database: every table group on one statement cache, and the lifecycle. */
function compose(db: Database.Database, path: string, isNew: boolean): Store {
  const ctx = createSqliteContext(db)
  const checkPresent = presenceCheck(path)
  const sync = syncGroups(ctx, path)
  // One connection, so one transaction at a time: the outer store's calls and `transaction()` take turns.
  const turn = createSerial(`store ${path}`)
  const outer = outerRunner(db, turn)
  return {
    path,
    isNew,
    shared: false,
    ...asyncGroups(sync, outer),

    initialise: (init) => outer.call('initialise', () => initialiseSync(db, sync, init)),

    transaction(fn) {
      const refused = insideTurn(turn, 'transaction')
      if (refused) return Promise.reject(refused)
      return turn('transaction', async () => {
        checkPresent()
        const open = { ended: false }
        db.exec('BEGIN')
        try {
          const result = await fn(asyncGroups(sync, transactionRunner(open)))
          db.exec('COMMIT')
          return result
        } catch (err) {
          // A failed COMMIT or a statement error (SQLITE_FULL…) may already have ended the transaction.
          if (db.inTransaction) db.exec('ROLLBACK')
          throw err
        } finally {
          open.ended = true
        }
      })
    },

    checkPresent: () => outer.call('checkPresent', checkPresent),

    close() {
      const refused = insideTurn(turn, 'close')
      if (refused) return Promise.reject(refused)
      return turn('close', async () => {
        if (db.open) db.close()
      })
    },
  }
}

/** The synchronous groups, all on one statement cache. */
interface SyncGroups extends SyncGroup<Omit<StoreGroups, 'secAgg'>> {
  secAgg: SyncGroup<SecAggStore>
}

function syncGroups(ctx: SqliteContext, path: string): SyncGroups {
  return {
    ...sqliteMeta(ctx),
    ...sqliteModel(ctx, path),
    ...sqliteOptimizerState(ctx),
    ...sqliteRounds(ctx),
    ...sqliteUpdates(ctx),
    ...sqliteEvaluations(ctx),
    ...sqliteRejections(ctx),
    ...sqliteCatalogue(ctx),
    secAgg: sqliteSecAgg(ctx),
  }
}

function asyncGroups({ secAgg, ...flat }: SyncGroups, runner: GroupRunner): StoreGroups {
  return {
    ...asyncGroup<Omit<StoreGroups, 'secAgg'>>(flat, runner),
    secAgg: asyncGroup<SecAggStore>(secAgg, runner),
  }
}

function initialiseSync(db: Database.Database, sync: SyncGroups, init: StoreInit): void {
  db.transaction(() => {
    db.exec(SCHEMA_SQL)
    for (let v = 1; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] ?? '')
    for (const [key, value] of Object.entries(init.meta)) sync.setMeta(key, value)
    sync.setMeta('schema_version', String(SCHEMA_VERSION))
    // Written last, though the transaction makes the order moot: a file without it is not ours.
    sync.setMeta('format', STORE_FORMAT)
    sync.saveModel(init.model)
    sync.insertRound(init.round)
  })()
}
