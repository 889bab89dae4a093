// The PostgreSQL store beyond the shared contract: what it refuses to open, two connections writing the same
// key, savepoints, damaged rows, and a server that goes away and comes back.
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { StartupError, StoreLostError } from '../../errors.ts'
import { contractFeatures } from '../feature-contract.ts'
import type { RoundRecord } from '../rounds.ts'
import { StoreCorruptError } from '../rows.ts'
import type { Store } from '../store.ts'
import { AT, contractInit, update } from '../store-contract.ts'
import { openPostgresStore, StoreConflictError } from './index.ts'
import { schemaInStep } from './schema.ts'
import { startPostgres, type TestPostgres } from './test-postgres.ts'

let server: TestPostgres
beforeAll(async () => {
  server = await startPostgres()
}, 120_000)
afterAll(() => server?.stop(), 60_000)

const opened: Store[] = []
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close()
})

async function open(url: string, create = true): Promise<Store> {
  const store = await openPostgresStore(url, { create })
  opened.push(store)
  return store
}

/** A new schema holding an initialised store. */
async function initialised(): Promise<{ url: string; store: Store }> {
  const url = await server.schema()
  const store = await open(url)
  await store.initialise(contractInit)
  return { url, store }
}

/** Runs SQL on its own connection, as an operator or another program would. */
async function sql(url: string, text: string): Promise<unknown[]> {
  const client = new pg.Client(url)
  await client.connect()
  try {
    return (await client.query(text)).rows
  } finally {
    await client.end()
  }
}

describe('openPostgresStore', () => {
  it('creates a store in an empty database, then reopens it without create', async () => {
    const url = await server.schema()
    const fresh = await open(url)
    expect(fresh.isNew).toBe(true)
    await fresh.initialise(contractInit)
    await fresh.close()
    const store = await open(url, false)
    expect(store.isNew).toBe(false)
    expect((await store.loadModel()).itemIds).toEqual(['i1', 'i2', 'i3'])
    expect((await store.openRound()).round).toBe(0)
  })

  it('names the store by its URL without the password', async () => {
    const url = (await server.database()).replace('fedrec@', 'fedrec:s3cret@')
    const store = await open(url)
    expect(store.path).toMatch(/^postgresql:\/\/fedrec@127\.0\.0\.1:\d+\/fedrec_\d+$/)
  })

  it('refuses an empty database without create', async () => {
    await expect(open(await server.schema(), false)).rejects.toThrow(
      /is an empty database \(no tables\)\. If this is the first start, pass --init/,
    )
  })

  it('refuses a database with other tables and no fedrec meta', async () => {
    const url = await server.schema()
    await sql(url, `CREATE TABLE orders (id BIGINT PRIMARY KEY)`)
    const refused = open(url)
    await expect(refused).rejects.toThrow(StartupError)
    await expect(refused).rejects.toThrow('not a fedrec aggregator store (meta.format is null)')
  })

  it('refuses a meta table of another format', async () => {
    const url = await server.schema()
    await sql(
      url,
      `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('format', 'shop')`,
    )
    await expect(open(url)).rejects.toThrow('(meta.format is "shop")')
  })

  it('refuses a newer schema version, and one older than any PostgreSQL store', async () => {
    const { url, store } = await initialised()
    await store.setMeta('schema_version', '10')
    await expect(open(url)).rejects.toThrow(
      'has schema version "10"; this aggregator reads PostgreSQL stores of versions 8 to 9',
    )
    await store.setMeta('schema_version', '3')
    await expect(open(url)).rejects.toThrow('has schema version "3"')
  })

  it('migrates a version-8 store: its model loads id-only, then keeps features and queued strings', async () => {
    const { url, store } = await initialised()
    await store.queueItems(['q1'], AT)
    await store.close()
    // Back to the version-8 tables, as an aggregator before item features left them.
    await sql(
      url,
      `ALTER TABLE model DROP COLUMN num_features, DROP COLUMN feature_embedding, DROP COLUMN feature_bias,
         DROP COLUMN item_feature_offsets, DROP COLUMN item_feature_rows;
       ALTER TABLE pending_items DROP COLUMN features;
       ALTER TABLE model_changes DROP COLUMN feature_rows;
       UPDATE meta SET value = '8' WHERE key = 'schema_version'`,
    )
    const migrated = await open(url, false)
    expect(await migrated.meta('schema_version')).toBe('9')
    const model = await migrated.loadModel()
    expect(model.itemIds).toEqual(['i1', 'i2', 'i3'])
    expect(model.features).toBeUndefined()
    expect(await migrated.pendingItems()).toEqual(['q1'])
    expect(await migrated.queueItems(['q2'], AT, new Map([['q2', ['cat:x']]]))).toBe(1)
    expect(await migrated.pendingFeatures()).toEqual(new Map([['q2', ['cat:x']]]))
    await migrated.saveModel({ ...model, version: 1, features: contractFeatures(3) })
    expect(Array.from((await migrated.loadModel()).features?.items.rows ?? [])).toEqual([0, 2, 1, 2])
  })

  it('refuses a URL that is not PostgreSQL’s, and a server that does not answer', async () => {
    await expect(open('mysql://root@127.0.0.1/fedrec')).rejects.toThrow('is not a PostgreSQL URL')
    await expect(open('not a url')).rejects.toThrow('store URL is not a URL')
    await expect(open('postgresql://fedrec@127.0.0.1:1/fedrec')).rejects.toThrow(
      'store postgresql://fedrec@127.0.0.1:1/fedrec is not reachable',
    )
  })

  it('commits synchronously whatever the database or the URL say, and keeps the URL’s other options', async () => {
    const url = await server.database()
    await sql(url, `ALTER DATABASE ${new URL(url).pathname.slice(1)} SET synchronous_commit = off`)
    await sql(url, `CREATE SCHEMA elsewhere`)
    const options = encodeURIComponent('-c synchronous_commit=off -c search_path=elsewhere')
    const store = await open(`${url}?options=${options}`)
    await store.initialise(contractInit)
    expect(await sql(url, `SELECT count(*)::int AS n FROM elsewhere.meta`)).toEqual([{ n: 5 }])
  })

  it('keeps the schema at the SQLite store’s version', () => {
    expect(schemaInStep()).toBe(true)
  })
})

describe('PostgreSQL transactions', () => {
  it('lets exactly one of two connections store the same key; the other gets a StoreConflictError', async () => {
    const { url, store: first } = await initialised()
    const second = await open(url, false)
    let release = (): void => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let inserted = (): void => {}
    const firstInserted = new Promise<void>((resolve) => {
      inserted = resolve
    })
    const winner = first.transaction(async (tx) => {
      await tx.insertUpdate(update('same-key', 'c1', 0.5))
      inserted()
      await gate
      return 'first'
    })
    await firstInserted
    const loser = second
      .transaction(async (tx) => tx.insertUpdate(update('same-key', 'c2', 0.5)))
      .then(
        () => null,
        (err: unknown) => err,
      )
    // The second insert waits on the first transaction's row lock until that commits.
    await expect
      .poll(async () => sql(url, `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'`))
      .toHaveLength(1)
    release()
    expect(await winner).toBe('first')
    const err = await loser
    expect(err).toBeInstanceOf(StoreConflictError)
    expect(err).toMatchObject({
      constraint: 'updates_pkey',
      message: expect.stringContaining('(idempotency_key)=(same-key)'),
    })
    expect(await second.findUpdate('same-key')).toMatchObject({ clientHash: 'c1' })
  })

  it('rolls back a failed group write alone (a savepoint), so the transaction goes on', async () => {
    const { store } = await initialised()
    const report = {
      idempotencyKey: 'e1',
      clientHash: 'c1',
      modelVersion: 0,
      users: 2,
      hits10: 1,
      ndcg10: 0.5,
      receivedAt: '2026-03-01T00:01:00.000Z',
    }
    await store.insertEvaluation(report)
    await store.transaction(async (tx) => {
      await expect(tx.insertEvaluation({ ...report, users: 100 })).rejects.toThrow(StoreConflictError)
      await tx.setMeta('after', 'committed')
      await tx.addRejections(new Map([['duplicate', 1]]))
    })
    expect(await store.meta('after')).toBe('committed')
    expect(await store.evaluations(5)).toEqual([{ modelVersion: 0, users: 2, hits10: 1, ndcg10: 0.5 }])
  })

  it('streams payloads inside a transaction, which goes on after the iteration stops', async () => {
    const { store } = await initialised()
    const seen = await store.transaction(async (tx) => {
      for (const i of [3, 1, 2]) await tx.insertUpdate(update(`k${i}`, `c${i}`, 0.5, [i]))
      const out: number[] = []
      for await (const payload of tx.roundPayloads(0)) {
        out.push(payload[0] ?? -1)
        if (out.length === 2) break
      }
      await tx.dropPayloads(0)
      return out
    })
    expect(seen).toEqual([3, 1])
    expect(await store.findUpdate('k2')).toMatchObject({ payload: null })
  })

  it('refuses the store itself being called inside its own transaction', async () => {
    const { store } = await initialised()
    await expect(store.transaction(async () => store.openRound())).rejects.toThrow(
      'was called directly inside its own transaction(fn): use the groups fn was given',
    )
    expect((await store.openRound()).round).toBe(0)
    // A callback armed inside fn runs after it, and may use the store then.
    let armed: Promise<RoundRecord> | undefined
    await store.transaction(async () => {
      armed = new Promise((resolve, reject) => setImmediate(() => store.openRound().then(resolve, reject)))
    })
    await expect(armed).resolves.toMatchObject({ round: 0 })
  })

  it('refuses a second open round', async () => {
    const { store } = await initialised()
    await expect(store.insertRound({ ...contractInit.round, round: 1 })).rejects.toThrow(StoreConflictError)
  })
})

describe('PostgreSQL rows that are not what the store wrote', () => {
  it('refuses a model whose bytes no longer match its checksum, and seals one without a checksum', async () => {
    const { url, store } = await initialised()
    await sql(url, `UPDATE model SET checksum = NULL`)
    expect((await store.loadModel()).version).toBe(0)
    expect(await sql(url, `SELECT checksum IS NOT NULL AS sealed FROM model`)).toEqual([{ sealed: true }])
    await sql(url, `UPDATE model SET item_bias = '\\x0000803f0000003e000080bf'::bytea`)
    await expect(store.loadModel()).rejects.toThrow(/model version 0 does not match the checksum/)
  })

  it('refuses a catalogue with a missing row, and a count beyond a safe integer', async () => {
    const { url, store } = await initialised()
    await sql(url, `UPDATE items SET row = 5 WHERE row = 2`)
    await expect(store.loadModel()).rejects.toThrow('items: rows run from 0 to 5, not 0 to 2')
    await sql(url, `UPDATE rounds SET resets = 9007199254740993`)
    const read = store.openRound()
    await expect(read).rejects.toThrow(StoreCorruptError)
    await expect(read).rejects.toThrow('rounds.resets: expected an integer, got 9007199254740993')
  })
})

describe('PostgreSQL store identity', () => {
  it('is lost when the database’s store id changes under it', async () => {
    const { url, store } = await initialised()
    await store.checkPresent()
    await sql(url, `UPDATE meta SET value = 'another-store' WHERE key = 'store_id'`)
    await expect(store.checkPresent()).rejects.toThrow(StoreLostError)
    await expect(store.transaction(async (tx) => tx.openRound())).rejects.toThrow(
      /is no longer the database this aggregator opened \(its store id was [0-9a-f-]{36}, now another-store\)/,
    )
  })

  // The last two take the shared server down and up again.
  it('rolls back a transaction whose connection is cut, with a StoreLostError', async () => {
    const { store } = await initialised()
    const cut = store.transaction(async (tx) => {
      await tx.insertUpdate(update('k1', 'c1', 0.5))
      await server.restart()
      await tx.setMeta('after', 'restart')
    })
    await expect(cut).rejects.toThrow(StoreLostError)
    await expect
      .poll(() =>
        store.checkPresent().then(
          () => 'present',
          (err: Error) => err.name,
        ),
      )
      .toBe('present')
    expect(await store.findUpdate('k1')).toBeUndefined()
    expect(await store.meta('after')).toBeUndefined()
  }, 120_000)

  it('is lost while the server is down, and present again once it is back or restarted', async () => {
    const { store } = await initialised()
    const presence = () =>
      store.checkPresent().then(
        () => 'present',
        (err: Error) => err.name,
      )
    await server.shutdown()
    await expect(store.checkPresent()).rejects.toThrow(StoreLostError)
    await expect(store.transaction(async (tx) => tx.openRound())).rejects.toThrow(/is unreachable/)
    await expect(store.openRound()).rejects.toThrow(StoreLostError)
    await server.start()
    await expect.poll(presence).toBe('present')
    expect((await store.openRound()).round).toBe(0)
    await server.restart()
    await expect.poll(presence).toBe('present')
    expect((await store.loadModel()).version).toBe(0)
  }, 120_000)
})
