import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import createDebug from 'debug'
import { logError } from '../error-log.ts'
import { StartupError, StoreLostError } from '../errors.ts'
import { checkModelFinite, modelChecksum } from './model-checksum.ts'
import {
  asRow,
  blob,
  floatsFromBlob,
  floatsToBlob,
  int,
  nullable,
  real,
  StoreCorruptError,
  text,
} from './rows.ts'
import { MIGRATIONS, SCHEMA_SQL, SCHEMA_VERSION, STORE_FORMAT } from './schema.ts'

export { StoreCorruptError } from './rows.ts'
export { SCHEMA_VERSION, STORE_FORMAT } from './schema.ts'

const log = createDebug('fedrec:aggregator:store')

/** The current global model as stored: the catalogue and the two shared item tensors. */
export interface StoredModel {
  version: number
  round: number
  dim: number
  itemIds: string[]
  /** numItems × dim, row-major. */
  itemEmbedding: Float32Array
  /** numItems. */
  itemBias: Float32Array
  createdAt: string
}

/** Server optimizer moments per tensor name, as `applyRound` keeps them. */
export type OptimizerState = Map<string, { m?: Float32Array; v?: Float32Array }>

/** One round: open while `closedAt` is null. */
export interface RoundRecord {
  round: number
  modelVersion: number
  openedAt: string
  deadline: string
  closedAt: string | null
  closedBy: 'quorum' | 'deadline' | null
  participants: number | null
  samples: number | null
  updateNorm: number | null
  /** Mean and largest L2 norm of the accepted client updates (after clipping); null while open. */
  clientNormMean: number | null
  clientNormMax: number | null
  /** Accepted updates whose norm was clipped; null while open. */
  clipped: number | null
  /** Operator resets of this round (each one discarded its accepted updates and reopened it). */
  resets: number
  /** Accepted updates that those resets discarded. */
  discarded: number
}

/** How a round ended, written when it closes. */
export interface RoundClosing {
  closedAt: string
  closedBy: 'quorum' | 'deadline'
  participants: number
  samples: number
  updateNorm: number
  clientNormMean: number
  clientNormMax: number
  clipped: number
  /** DP-FedAvg parameters the round closed with (absent: no DP); what the accountant composes. */
  dp?: PrivacyRound
}

/** One closed round as the privacy accountant needs it. */
export interface PrivacyRound {
  /** σ of the round (noise stddev σ·S on the sum). */
  noiseMultiplier: number
  /** q the round was accounted with. */
  sampleRate: number
  /** S of the round. */
  clipNorm: number
}

/** One accepted update; `payload` is null once its round has closed. */
export interface UpdateRecord {
  idempotencyKey: string
  clientHash: string
  round: number
  sampleCount: number
  payload: Uint8Array | null
  /** The UpdateAck JSON answered when it was accepted. */
  ack: string
  receivedAt: string
  /** L2 norm of the update as counted (after clipping). */
  norm: number
  /** True when the norm bound scaled this update down; `payload` then holds the scaled update. */
  clipped: boolean
}

/** Federated-evaluation sums of one model version. */
export interface EvaluationTotals {
  modelVersion: number
  users: number
  hits10: number
  ndcg10: number
}

/** The rows that changed from model version `version - 1` to `version`: what model patches are made of. */
export interface ModelChanges {
  version: number
  /** Items of version `version - 1`; rows from `baseItems` on are items added with `version`. */
  baseItems: number
  /** Ascending row ids: rows whose values changed, and every added row. */
  rows: Uint32Array
}

/** Everything a fresh store is created with, in one transaction. */
export interface StoreInit {
  meta: Record<string, string>
  model: StoredModel
  round: RoundRecord
}

/**
 * The aggregator's durable state in one SQLite file (WAL, `synchronous = FULL`: a committed transaction
 * survives a crash or power cut, so an ack means durable). Every method is synchronous; group writes with
 * `transaction()`.
 */
export interface AggregatorStore {
  readonly path: string
  /** True when the file had no fedrec tables yet: call `initialise()` before anything else. */
  readonly isNew: boolean
  initialise(init: StoreInit): void
  meta(key: string): string | undefined
  setMeta(key: string, value: string): void
  /**
   * The stored model, its checksum verified (a model written before checksums gets one).
   * @throws StoreCorruptError when its bytes do not match the checksum or a value is not finite
   */
  loadModel(): StoredModel
  /** Replaces the stored model (only the current version is kept) and appends new catalogue rows. */
  saveModel(model: StoredModel): void
  loadOptimizerState(): OptimizerState
  saveOptimizerState(state: OptimizerState): void
  openRound(): RoundRecord
  insertRound(round: RoundRecord): void
  setDeadline(round: number, deadline: string): void
  /**
   * The operator reset of an open round, to run inside `transaction()` with nothing else: moves the keys of
   * its accepted updates to `discarded_updates` (payloads and acks go), so neither a replay nor a retry
   * counts them again, and reopens the round with `openedAt` and `deadline`, counting the reset. Returns how
   * many updates were discarded.
   */
  resetRound(round: number, reopen: { at: string; deadline: string }): number
  closeRound(round: number, closing: RoundClosing): void
  /** Closed rounds, oldest first, at most the `limit` most recent. */
  history(limit: number): RoundRecord[]
  /** Every closed round, oldest first, with its DP parameters (null: closed without DP). */
  privacyRounds(): { round: number; participants: number; dp: PrivacyRound | null }[]
  findUpdate(idempotencyKey: string): UpdateRecord | undefined
  /** The update under this key if an operator reset discarded it (until its round's acks are pruned). */
  findDiscarded(idempotencyKey: string): { clientHash: string; round: number } | undefined
  hasClientSubmitted(round: number, clientHash: string): boolean
  insertUpdate(update: UpdateRecord): void
  deleteUpdate(idempotencyKey: string): void
  /** Norm statistics of a round's accepted updates so far. */
  roundNorms(round: number): { mean: number; max: number; clipped: number }
  /**
   * Forgets the acks (and discarded keys) of rounds that closed before `closedBefore` (ISO): a retry that
   * late gets `round_closed` instead of its ack. Returns how many rows went.
   */
  pruneUpdates(closedBefore: string): number
  /** Adds to the rejection counters. */
  addRejections(counts: ReadonlyMap<string, number>): void
  rejections(): Record<string, number>
  /**
   * The client (salted hash) and model version of the report counted under this key, while its version is
   * still taken; `clientHash` is null for a report counted before reports were bound to clients.
   */
  findEvaluation(idempotencyKey: string): { clientHash: string | null; modelVersion: number } | undefined
  hasClientEvaluated(modelVersion: number, clientHash: string): boolean
  /** Records a report's key and client and adds its sums to its model version's totals. */
  insertEvaluation(
    report: EvaluationTotals & { idempotencyKey: string; clientHash: string; receivedAt: string },
  ): void
  /** Evaluation totals, oldest version first, at most the `limit` most recent versions. */
  evaluations(limit: number): EvaluationTotals[]
  /** Forgets the idempotency keys of reports on versions below `minVersion` (no longer accepted). */
  pruneEvaluationKeys(minVersion: number): number
  /**
   * Payloads of a round's accepted updates in acceptance order, streamed one at a time (a round can hold
   * more than fits in memory at once). No writes until the iteration ends.
   */
  roundPayloads(round: number): IterableIterator<Uint8Array>
  dropPayloads(round: number): void
  pendingItems(): string[]
  /** Queues ids that are neither in the catalogue nor pending; returns how many were new. */
  queueItems(itemIds: readonly string[], queuedAt: string): number
  clearPendingItems(): void
  /** Records the rows a published version changed (write it in the transaction that saves that model). */
  insertModelChanges(changes: ModelChanges): void
  /** The recorded changes of the versions after `since`, oldest first (gaps are the caller's to notice). */
  modelChanges(since: number): ModelChanges[]
  /** Forgets the changes of versions up to `upTo`; returns how many went. */
  pruneModelChanges(upTo: number): number
  /**
   * Runs `fn` in one transaction, after checking that the file is still the one opened.
   * @throws StoreLostError when the store file was deleted or replaced under the running aggregator
   */
  transaction<T>(fn: () => T): T
  /**
   * Checks that the store file is still there and still the file that was opened (same device and inode).
   * @throws StoreLostError otherwise — logged once
   */
  checkPresent(): void
  /** A cached prepared statement, for a module with tables of its own (secure aggregation: secagg/store.ts). */
  statement(source: string): Database.Statement
  close(): void
}

/**
 * Opens the store at `path` (`':memory:'` for tests), creating it only when `create` is true. A file that
 * is missing (without `create`), is not a fedrec aggregator store, is of a newer schema version, or is
 * corrupt is refused with a `StartupError`: never a silent fresh model over an operator's data. A store
 * of an older schema version is migrated.
 * @example
 * const store = openStore('.fedrec/aggregator.sqlite', { create: true })
 * if (store.isNew) store.initialise({ meta, model, round })
 */
export function openStore(path: string, { create = true }: { create?: boolean } = {}): AggregatorStore {
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
  return wrap(db, path, isNew)
}

/**
 * The aggregator writes every accepted update to the store (and SQLite its write-ahead log beside it): a file
 * or folder it cannot write would otherwise surface as SQLite's "disk I/O error", which reads like damage.
 */
function checkWritable(path: string): void {
  for (const [what, target] of [
    ['file', path],
    ['folder', dirname(path)],
  ] as const) {
    try {
      accessSync(target, constants.W_OK)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err)
      throw new StartupError(
        `store ${path} is not writable (${code} on its ${what} ${target}): the aggregator writes every accepted update to it; give the user it runs as write access to the file and its folder, or mount the volume read-write`,
        { cause: err },
      )
    }
  }
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

function wrap(db: Database.Database, path: string, isNew: boolean): AggregatorStore {
  // The file's identity when opened: a later stat that finds nothing, or another file, means the store was
  // deleted or replaced, and SQLite would go on writing into an unlinked file that no restart can find.
  const opened = path === ':memory:' ? null : statSync(path)
  let lostLogged = false
  const checkPresent = (): void => {
    if (!opened) return
    let why: string | null = null
    try {
      const now = statSync(path)
      if (now.ino !== opened.ino || now.dev !== opened.dev) why = 'another file is at its path now'
    } catch (err) {
      why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file is gone' : String(err)
    }
    if (why === null) return
    const err = new StoreLostError(
      `store ${path} was deleted or replaced while the aggregator runs (${why}): nothing written now would survive a restart, so updates are refused; restore the file (or remount its volume) and restart the aggregator`,
    )
    if (!lostLogged) logError('store_lost', err, { store: path })
    lostLogged = true
    throw err
  }
  // Prepared lazily: on a fresh file the tables do not exist until initialise().
  const cache = new Map<string, Database.Statement>()
  const sql = (source: string): Database.Statement => {
    let stmt = cache.get(source)
    if (!stmt) {
      stmt = db.prepare(source)
      cache.set(source, stmt)
    }
    return stmt
  }

  const store: AggregatorStore = {
    path,
    isNew,

    initialise({ meta, model, round }) {
      db.transaction(() => {
        db.exec(SCHEMA_SQL)
        for (let v = 1; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] ?? '')
        for (const [key, value] of Object.entries(meta)) store.setMeta(key, value)
        store.setMeta('schema_version', String(SCHEMA_VERSION))
        // Written last, though the transaction makes the order moot: a file without it is not ours.
        store.setMeta('format', STORE_FORMAT)
        store.saveModel(model)
        store.insertRound(round)
      })()
    },

    meta(key) {
      const value = sql(`SELECT value FROM meta WHERE key = ?`).pluck().get(key)
      return value === undefined ? undefined : text({ value }, 'value', `meta.${key}`)
    },

    setMeta(key, value) {
      sql(
        `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ).run(key, value)
    },

    loadModel() {
      const rows = sql(`SELECT * FROM model`).all()
      if (rows.length !== 1) throw new StoreCorruptError(`expected one model row, found ${rows.length}`)
      const row = asRow(rows[0], 'model')
      const numItems = int(row, 'num_items', 'model')
      const dim = int(row, 'dim', 'model')
      const itemIds = sql(`SELECT row, item_id FROM items ORDER BY row`)
        .all()
        .map((r, i) => {
          const item = asRow(r, 'items')
          if (int(item, 'row', 'items') !== i) throw new StoreCorruptError(`items: row ${i} is missing`)
          return text(item, 'item_id', 'items')
        })
      if (itemIds.length !== numItems)
        throw new StoreCorruptError(`model has ${numItems} items but the catalogue lists ${itemIds.length}`)
      const model: StoredModel = {
        version: int(row, 'version', 'model'),
        round: int(row, 'round', 'model'),
        dim,
        itemIds,
        itemEmbedding: floatsFromBlob(
          blob(row, 'item_embedding', 'model'),
          numItems * dim,
          'model.item_embedding',
        ),
        itemBias: floatsFromBlob(blob(row, 'item_bias', 'model'), numItems, 'model.item_bias'),
        createdAt: text(row, 'created_at', 'model'),
      }
      const stored = nullable(row, 'checksum', 'model', text)
      const actual = modelChecksum(model)
      if (stored !== null && stored !== actual) {
        throw new StoreCorruptError(
          `model version ${model.version} does not match the checksum it was written with (stored ${stored.slice(0, 12)}…, now ${actual.slice(0, 12)}…): its bytes were damaged on disk; restore the store from a backup`,
        )
      }
      checkModelFinite(model)
      if (stored === null) {
        // A store written before checksums (schema version < 7): its values were just checked finite, so
        // seal what is there; from now on damage is caught.
        sql(`UPDATE model SET checksum = ? WHERE version = ?`).run(actual, model.version)
        log('%s: model version %d checksummed', path, model.version)
      }
      return model
    },

    saveModel(model) {
      // Never publish what cannot be served: the transaction fails and the round stays open with its updates.
      checkModelFinite(model)
      const known = int(asRow(sql(`SELECT count(*) AS n FROM items`).get(), 'items'), 'n', 'items')
      const insertItem = sql(`INSERT INTO items (row, item_id) VALUES (?, ?)`)
      for (let i = known; i < model.itemIds.length; i++) insertItem.run(i, model.itemIds[i])
      sql(`DELETE FROM model`).run()
      sql(
        `INSERT INTO model (version, round, num_items, dim, item_embedding, item_bias, created_at, checksum)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        model.version,
        model.round,
        model.itemIds.length,
        model.dim,
        floatsToBlob(model.itemEmbedding),
        floatsToBlob(model.itemBias),
        model.createdAt,
        modelChecksum(model),
      )
    },

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

    openRound() {
      const rows = sql(`SELECT * FROM rounds WHERE closed_at IS NULL`).all()
      if (rows.length !== 1) throw new StoreCorruptError(`expected one open round, found ${rows.length}`)
      return toRound(rows[0])
    },

    insertRound(r) {
      sql(
        `INSERT INTO rounds (round, model_version, opened_at, deadline, closed_at, closed_by, participants, samples,
           update_norm, client_norm_mean, client_norm_max, clipped, resets, discarded)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        r.round,
        r.modelVersion,
        r.openedAt,
        r.deadline,
        r.closedAt,
        r.closedBy,
        r.participants,
        r.samples,
        r.updateNorm,
        r.clientNormMean,
        r.clientNormMax,
        r.clipped,
        r.resets,
        r.discarded,
      )
    },

    setDeadline(round, deadline) {
      sql(`UPDATE rounds SET deadline = ? WHERE round = ?`).run(deadline, round)
    },

    resetRound(round, { at, deadline }) {
      sql(
        `INSERT INTO discarded_updates (idempotency_key, client_hash, round, discarded_at)
         SELECT idempotency_key, client_hash, round, ? FROM updates WHERE round = ?`,
      ).run(at, round)
      const { changes: discarded } = sql(`DELETE FROM updates WHERE round = ?`).run(round)
      const { changes } = sql(
        `UPDATE rounds SET opened_at = ?, deadline = ?, resets = resets + 1, discarded = discarded + ?
         WHERE round = ? AND closed_at IS NULL`,
      ).run(at, deadline, discarded, round)
      if (changes !== 1) throw new StoreCorruptError(`round ${round} is not open`)
      return discarded
    },

    closeRound(round, c) {
      const { changes } = sql(
        `UPDATE rounds SET closed_at = ?, closed_by = ?, participants = ?, samples = ?, update_norm = ?,
           client_norm_mean = ?, client_norm_max = ?, clipped = ?
         WHERE round = ? AND closed_at IS NULL`,
      ).run(
        c.closedAt,
        c.closedBy,
        c.participants,
        c.samples,
        c.updateNorm,
        c.clientNormMean,
        c.clientNormMax,
        c.clipped,
        round,
      )
      if (changes !== 1) throw new StoreCorruptError(`round ${round} is not open`)
      if (c.dp)
        sql(
          `UPDATE rounds SET dp_noise_multiplier = ?, dp_sample_rate = ?, dp_clip_norm = ? WHERE round = ?`,
        ).run(c.dp.noiseMultiplier, c.dp.sampleRate, c.dp.clipNorm, round)
    },

    privacyRounds() {
      return sql(
        `SELECT round, participants, dp_noise_multiplier, dp_sample_rate, dp_clip_norm FROM rounds
         WHERE closed_at IS NOT NULL ORDER BY round`,
      )
        .all()
        .map((input) => {
          const row = asRow(input, 'rounds')
          const noiseMultiplier = nullable(row, 'dp_noise_multiplier', 'rounds', real)
          return {
            round: int(row, 'round', 'rounds'),
            participants: nullable(row, 'participants', 'rounds', int) ?? 0,
            dp:
              noiseMultiplier === null
                ? null
                : {
                    noiseMultiplier,
                    sampleRate: real(row, 'dp_sample_rate', 'rounds'),
                    clipNorm: real(row, 'dp_clip_norm', 'rounds'),
                  },
          }
        })
    },

    history(limit) {
      return sql(
        `SELECT * FROM (SELECT * FROM rounds WHERE closed_at IS NOT NULL ORDER BY round DESC LIMIT ?) ORDER BY round`,
      )
        .all(limit)
        .map(toRound)
    },

    findUpdate(key) {
      const row = sql(`SELECT * FROM updates WHERE idempotency_key = ?`).get(key)
      return row === undefined ? undefined : toUpdate(row)
    },

    findDiscarded(key) {
      const row = sql(`SELECT client_hash, round FROM discarded_updates WHERE idempotency_key = ?`).get(key)
      if (row === undefined) return undefined
      const r = asRow(row, 'discarded_updates')
      return {
        clientHash: text(r, 'client_hash', 'discarded_updates'),
        round: int(r, 'round', 'discarded_updates'),
      }
    },

    hasClientSubmitted(round, clientHash) {
      return (
        sql(`SELECT 1 FROM updates WHERE round = ? AND client_hash = ?`).get(round, clientHash) !== undefined
      )
    },

    insertUpdate(u) {
      sql(
        `INSERT INTO updates (idempotency_key, client_hash, round, sample_count, payload, ack, received_at, norm, clipped)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        u.idempotencyKey,
        u.clientHash,
        u.round,
        u.sampleCount,
        u.payload,
        u.ack,
        u.receivedAt,
        u.norm,
        u.clipped ? 1 : 0,
      )
    },

    deleteUpdate(key) {
      sql(`DELETE FROM updates WHERE idempotency_key = ?`).run(key)
    },

    roundNorms(round) {
      const row = asRow(
        sql(
          `SELECT coalesce(avg(norm), 0) AS mean, coalesce(max(norm), 0) AS max, coalesce(sum(clipped), 0) AS clipped
           FROM updates WHERE round = ?`,
        ).get(round),
        'updates',
      )
      return {
        mean: real(row, 'mean', 'updates'),
        max: real(row, 'max', 'updates'),
        clipped: int(row, 'clipped', 'updates'),
      }
    },

    pruneUpdates(closedBefore) {
      const closed = `SELECT round FROM rounds WHERE closed_at IS NOT NULL AND closed_at < ?`
      return (
        sql(`DELETE FROM updates WHERE round IN (${closed})`).run(closedBefore).changes +
        sql(`DELETE FROM discarded_updates WHERE round IN (${closed})`).run(closedBefore).changes
      )
    },

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

    findEvaluation(key) {
      const row = sql(
        `SELECT client_hash, model_version FROM evaluation_reports WHERE idempotency_key = ?`,
      ).get(key)
      if (row === undefined) return undefined
      const r = asRow(row, 'evaluation_reports')
      return {
        clientHash: nullable(r, 'client_hash', 'evaluation_reports', text),
        modelVersion: int(r, 'model_version', 'evaluation_reports'),
      }
    },

    hasClientEvaluated(modelVersion, clientHash) {
      return (
        sql(`SELECT 1 FROM evaluation_reports WHERE model_version = ? AND client_hash = ?`).get(
          modelVersion,
          clientHash,
        ) !== undefined
      )
    },

    insertEvaluation(e) {
      db.transaction(() => {
        sql(
          `INSERT INTO evaluation_reports (idempotency_key, client_hash, model_version, received_at) VALUES (?, ?, ?, ?)`,
        ).run(e.idempotencyKey, e.clientHash, e.modelVersion, e.receivedAt)
        sql(
          `INSERT INTO evaluations (model_version, users, hits10, ndcg10) VALUES (?, ?, ?, ?)
           ON CONFLICT (model_version) DO UPDATE SET users = users + excluded.users,
             hits10 = hits10 + excluded.hits10, ndcg10 = ndcg10 + excluded.ndcg10`,
        ).run(e.modelVersion, e.users, e.hits10, e.ndcg10)
      })()
    },

    evaluations(limit) {
      return sql(
        `SELECT * FROM (SELECT * FROM evaluations ORDER BY model_version DESC LIMIT ?) ORDER BY model_version`,
      )
        .all(limit)
        .map((r) => {
          const row = asRow(r, 'evaluations')
          return {
            modelVersion: int(row, 'model_version', 'evaluations'),
            users: int(row, 'users', 'evaluations'),
            hits10: real(row, 'hits10', 'evaluations'),
            ndcg10: real(row, 'ndcg10', 'evaluations'),
          }
        })
    },

    pruneEvaluationKeys(minVersion) {
      return sql(`DELETE FROM evaluation_reports WHERE model_version < ?`).run(minVersion).changes
    },

    *roundPayloads(round) {
      const rows = sql(`SELECT payload FROM updates WHERE round = ? AND payload IS NOT NULL ORDER BY rowid`)
        .pluck()
        .iterate(round)
      for (const payload of rows) yield blob({ payload }, 'payload', `updates of round ${round}`)
    },

    dropPayloads(round) {
      sql(`UPDATE updates SET payload = NULL WHERE round = ?`).run(round)
    },

    pendingItems() {
      return sql(`SELECT item_id FROM pending_items ORDER BY seq`)
        .pluck()
        .all()
        .map((item_id) => text({ item_id }, 'item_id', 'pending_items'))
    },

    queueItems(itemIds, queuedAt) {
      const insert = sql(
        `INSERT INTO pending_items (item_id, queued_at)
         SELECT @id, @at WHERE NOT EXISTS (SELECT 1 FROM items WHERE item_id = @id)
         ON CONFLICT (item_id) DO NOTHING`,
      )
      let added = 0
      db.transaction(() => {
        for (const id of itemIds) added += insert.run({ id, at: queuedAt }).changes
      })()
      return added
    },

    clearPendingItems() {
      sql(`DELETE FROM pending_items`).run()
    },

    insertModelChanges({ version, baseItems, rows }) {
      sql(`INSERT INTO model_changes (version, base_items, rows) VALUES (?, ?, ?)`).run(
        version,
        baseItems,
        Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength),
      )
    },

    modelChanges(since) {
      return sql(`SELECT version, base_items, rows FROM model_changes WHERE version > ? ORDER BY version`)
        .all(since)
        .map((r) => {
          const row = asRow(r, 'model_changes')
          const bytes = blob(row, 'rows', 'model_changes')
          if (bytes.byteLength % 4 !== 0)
            throw new StoreCorruptError(
              `model_changes.rows: ${bytes.byteLength} bytes is not a list of row ids`,
            )
          const rows = new Uint32Array(bytes.byteLength / 4)
          new Uint8Array(rows.buffer).set(bytes)
          return {
            version: int(row, 'version', 'model_changes'),
            baseItems: int(row, 'base_items', 'model_changes'),
            rows,
          }
        })
    },

    pruneModelChanges(upTo) {
      return sql(`DELETE FROM model_changes WHERE version <= ?`).run(upTo).changes
    },

    transaction(fn) {
      checkPresent()
      return db.transaction(fn)()
    },

    checkPresent,

    statement: sql,

    close() {
      if (db.open) db.close()
    },
  }
  return store
}

function toRound(input: unknown): RoundRecord {
  const row = asRow(input, 'rounds')
  const closedBy = nullable(row, 'closed_by', 'rounds', text)
  if (closedBy !== null && closedBy !== 'quorum' && closedBy !== 'deadline')
    throw new StoreCorruptError(`rounds.closed_by: unknown value ${closedBy}`)
  return {
    round: int(row, 'round', 'rounds'),
    modelVersion: int(row, 'model_version', 'rounds'),
    openedAt: text(row, 'opened_at', 'rounds'),
    deadline: text(row, 'deadline', 'rounds'),
    closedAt: nullable(row, 'closed_at', 'rounds', text),
    closedBy,
    participants: nullable(row, 'participants', 'rounds', int),
    samples: nullable(row, 'samples', 'rounds', int),
    updateNorm: nullable(row, 'update_norm', 'rounds', real),
    clientNormMean: nullable(row, 'client_norm_mean', 'rounds', real),
    clientNormMax: nullable(row, 'client_norm_max', 'rounds', real),
    clipped: nullable(row, 'clipped', 'rounds', int),
    resets: int(row, 'resets', 'rounds'),
    discarded: int(row, 'discarded', 'rounds'),
  }
}

function toUpdate(input: unknown): UpdateRecord {
  const row = asRow(input, 'updates')
  return {
    idempotencyKey: text(row, 'idempotency_key', 'updates'),
    clientHash: text(row, 'client_hash', 'updates'),
    round: int(row, 'round', 'updates'),
    sampleCount: int(row, 'sample_count', 'updates'),
    payload: nullable(row, 'payload', 'updates', blob),
    ack: text(row, 'ack', 'updates'),
    receivedAt: text(row, 'received_at', 'updates'),
    norm: real(row, 'norm', 'updates'),
    clipped: int(row, 'clipped', 'updates') !== 0,
  }
}
