import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeModel, ITEM_BIAS, ITEM_EMBEDDING, type ModelSnapshot, newRandomId } from '@fedrec/protocol'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StartupError } from '../errors.ts'
import { SCHEMA_VERSION } from '../store/index.ts'
import { catalogueOf, makeUpdate, randomUpdate } from '../test-support.ts'
import { type Aggregator, AggregatorError, type AggregatorOptions, createAggregator } from './index.ts'

let dir: string
let open: Aggregator[] = []
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fedrec-aggregator-'))
})
afterEach(async () => {
  await Promise.all(open.map((a) => a.close()))
  open = []
  rmSync(dir, { recursive: true, force: true })
})

const NUM_ITEMS = 6
const DIM = 3

async function start(options: Partial<AggregatorOptions> = {}): Promise<Aggregator> {
  const aggregator = await createAggregator({
    store: join(dir, 'store', 's.sqlite'),
    catalogue: catalogueOf(NUM_ITEMS),
    dim: DIM,
    seed: 11,
    minClients: 3,
    deadlineTimer: false,
    // The synthetic updates here claim n_k freely; the bound by rows has its own test (influence.test.ts).
    negativesPerPositive: 1000,
    ...options,
  })
  open.push(aggregator)
  return aggregator
}

async function stop(aggregator: Aggregator): Promise<void> {
  await aggregator.close()
  open = open.filter((a) => a !== aggregator)
}

const snapshot = (a: Aggregator): ModelSnapshot => decodeModel(a.model().bytes)
const values = (s: ModelSnapshot, name: string) => Array.from(s.tensors.find((t) => t.name === name)!.values)

const rounds = (n: number, clients: number) =>
  Array.from({ length: n }, (_, r) =>
    Array.from({ length: clients }, (_, c) =>
      randomUpdate(r, r, { numItems: NUM_ITEMS, dim: DIM, seed: 1000 * r + c + 1, sampleCount: 3 + c }),
    ),
  )

describe('createAggregator', () => {
  it('creates a fresh store with model version 0 when the file is missing', async () => {
    const a = await start()
    expect(a.roundInfo()).toMatchObject({ round: 0, modelVersion: 0, numItems: NUM_ITEMS, dim: DIM })
    const s = snapshot(a)
    expect(s.itemIds).toEqual(catalogueOf(NUM_ITEMS))
    expect(values(s, ITEM_EMBEDDING).some((v) => v !== 0)).toBe(true)
    expect(values(s, ITEM_BIAS).every((v) => v === 0)).toBe(true)
  })

  it('is deterministic in its seed', async () => {
    const a = snapshot(await start({ store: join(dir, 'a.sqlite') }))
    const b = snapshot(await start({ store: join(dir, 'b.sqlite') }))
    const c = snapshot(await start({ store: join(dir, 'c.sqlite'), seed: 12 }))
    expect(values(a, ITEM_EMBEDDING)).toEqual(values(b, ITEM_EMBEDDING))
    expect(values(a, ITEM_EMBEDDING)).not.toEqual(values(c, ITEM_EMBEDDING))
  })

  it('counts every acknowledged update exactly once across a restart', async () => {
    const [updates] = rounds(1, 3)
    let a = await start()
    await a.submit(updates![0]!.bytes)
    await a.submit(updates![1]!.bytes)
    await stop(a)

    a = await start()
    expect(await a.status()).toMatchObject({ round: 0, participants: 2, samples: 3 + 4 })
    // A retry after the restart gets its ack and is not counted again.
    expect(await a.submit(updates![1]!.bytes)).toMatchObject({ duplicate: true, participants: 2 })
    expect(await a.submit(updates![2]!.bytes)).toMatchObject({ duplicate: false, participants: 3 })
    expect(a.roundInfo()).toMatchObject({ round: 1, modelVersion: 1 })
    const restarted = snapshot(a)

    const b = await start({ store: join(dir, 'reference.sqlite') })
    for (const u of updates!) await b.submit(u.bytes)
    expect(values(restarted, ITEM_EMBEDDING)).toEqual(values(snapshot(b), ITEM_EMBEDDING))
    expect(values(restarted, ITEM_BIAS)).toEqual(values(snapshot(b), ITEM_BIAS))
  })

  it('keeps the model, the history and the server optimizer state across restarts', async () => {
    const plan = rounds(3, 3)
    const reference = await start({
      store: join(dir, 'reference.sqlite'),
      serverOptimizer: 'fedadam',
      serverLearningRate: 0.1,
    })
    for (const round of plan) for (const u of round) await reference.submit(u.bytes)

    for (const round of plan) {
      const a = await start({ serverOptimizer: 'fedadam', serverLearningRate: 0.1 })
      for (const u of round) await a.submit(u.bytes)
      await stop(a)
    }
    const a = await start({ serverOptimizer: 'fedadam', serverLearningRate: 0.1 })
    expect(a.roundInfo()).toMatchObject({ round: 3, modelVersion: 3 })
    expect(values(snapshot(a), ITEM_EMBEDDING)).toEqual(values(snapshot(reference), ITEM_EMBEDDING))
    const history = (await a.status()).history
    expect(history.map((h) => [h.round, h.modelVersion, h.participants, h.closedBy])).toEqual([
      [0, 0, 3, 'quorum'],
      [1, 1, 3, 'quorum'],
      [2, 2, 3, 'quorum'],
    ])
    expect(history.every((h) => h.updateNorm > 0)).toBe(true)
  })

  it('drops the payloads of a closed round but keeps the acks', async () => {
    const a = await start({ minClients: 2 })
    const [updates] = rounds(1, 2)
    for (const u of updates!) await a.submit(u.bytes)
    await stop(a)
    const db = new Database(join(dir, 'store', 's.sqlite'))
    const rows = db.prepare('SELECT round, payload IS NULL AS dropped, client_hash FROM updates').all()
    db.close()
    expect(rows).toEqual([
      expect.objectContaining({ round: 0, dropped: 1 }),
      expect.objectContaining({ round: 0, dropped: 1 }),
    ])
    // Client ids are never stored in clear.
    for (const u of updates!) expect(JSON.stringify(rows)).not.toContain(u.update.clientId)
  })

  it('queues new catalogue ids on an existing store; they join when the round closes', async () => {
    await stop(await start())
    const a = await start({ catalogue: [...catalogueOf(NUM_ITEMS), 'late-1'], minClients: 1 })
    expect(a.roundInfo().numItems).toBe(NUM_ITEMS)
    await a.submit(
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, bias: [[0, [1]]] }).bytes,
    )
    expect(a.roundInfo()).toMatchObject({ modelVersion: 1, numItems: NUM_ITEMS + 1 })
    expect(snapshot(a).itemIds.at(-1)).toBe('late-1')
  })

  it('publishes pending items on a deadline even without updates, and only then', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z')
    const a = await start({ now: () => now })
    now += 301_000
    await a.checkDeadline()
    expect(a.roundInfo()).toMatchObject({ round: 0, modelVersion: 0 })
    await a.queueCatalogue(['new'])
    now += 301_000
    await a.checkDeadline()
    expect(a.roundInfo()).toMatchObject({ round: 1, modelVersion: 1, numItems: NUM_ITEMS + 1 })
    expect((await a.status()).history).toEqual([
      expect.objectContaining({ participants: 0, closedBy: 'deadline', updateNorm: 0 }),
    ])
  })

  it('starts without a catalogue, refuses updates, and publishes the first items at once', async () => {
    const a = await start({ catalogue: undefined })
    expect(a.roundInfo()).toMatchObject({ numItems: 0, modelVersion: 0 })
    await expect(
      a.submit(makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM }).bytes),
    ).rejects.toThrow(AggregatorError)
    expect(await a.queueCatalogue(['a', 'b'])).toEqual({ added: 2, pending: 0 })
    expect(a.roundInfo()).toMatchObject({ round: 1, modelVersion: 1, numItems: 2 })
    expect(snapshot(a).itemIds).toEqual(['a', 'b'])
  })

  it('refuses an idempotency key reused by another client', async () => {
    const a = await start()
    const key = newRandomId()
    await a.submit(
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, idempotencyKey: key }).bytes,
    )
    const other = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, idempotencyKey: key })
    await expect(a.submit(other.bytes)).rejects.toThrow(
      expect.objectContaining({ code: 'idempotency_conflict' }),
    )
    expect((await a.status()).participants).toBe(1)
  })
})

describe('group commit', () => {
  it('writes updates that arrive together in one go; retries and second updates within it are caught', async () => {
    const a = await start({ minClients: 3 })
    const [u0, u1, u2] = rounds(1, 3)[0]!
    const sameClient = makeUpdate({
      round: 0,
      modelVersion: 0,
      sampleCount: 9,
      dim: DIM,
      clientId: u1!.update.clientId,
    })
    const results = await Promise.allSettled([
      a.submit(u0!.bytes),
      a.submit(u0!.bytes),
      a.submit(u1!.bytes),
      a.submit(sameClient.bytes),
      a.submit(u2!.bytes),
    ])
    expect(
      results.map((r) =>
        r.status === 'fulfilled' ? [r.value.participants, r.value.duplicate] : r.reason.code,
      ),
    ).toEqual([[1, false], [1, true], [2, false], 'already_submitted', [3, false]])
    expect(await a.status()).toMatchObject({ round: 1, participants: 0 })
    expect((await a.status()).history[0]).toMatchObject({ participants: 3, samples: 3 + 4 + 5 })
  })
})

describe('operations data', () => {
  it('state changes started together run one at a time: two reports of one client, one counted', async () => {
    const a = await start({ minClients: 2 })
    const clientId = newRandomId()
    await a.submit(makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, clientId }).bytes)
    const report = () => ({
      round: 0,
      modelVersion: 0,
      clientId,
      idempotencyKey: newRandomId(),
      users: 1,
      hits10: 1,
      ndcg10: 1,
    })
    // Started in the same tick: without the lock both would pass "already evaluated?" across the store's
    // awaits before either is written.
    const answers = await Promise.allSettled([a.evaluate(report()), a.evaluate(report())])
    expect(answers.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    const refused = answers.find((r) => r.status === 'rejected')
    expect(refused?.status === 'rejected' && refused.reason).toMatchObject({ code: 'already_evaluated' })
    expect((await a.status()).evaluations).toEqual([expect.objectContaining({ modelVersion: 0, users: 1 })])
  })

  it('keeps rejection counts, evaluations and client update norms across a restart', async () => {
    let a = await start({ minClients: 2, maxEvaluationUsers: 2 })
    a.recordRejection('stale_model')
    a.recordRejection('stale_model')
    a.recordRejection('checksum')
    const clientId = newRandomId()
    await a.submit(
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, bias: [[0, [3]]], clientId }).bytes,
    )
    await a.submit(
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, bias: [[1, [1]]] }).bytes,
    )
    const key = newRandomId()
    const report = {
      round: 1,
      modelVersion: 1,
      clientId,
      idempotencyKey: key,
      users: 2,
      hits10: 1,
      ndcg10: 0.5,
    }
    await a.evaluate(report)
    await stop(a)
    a = await start({ minClients: 2, maxEvaluationUsers: 2 })
    const s = await a.status()
    expect(s.rejections).toEqual({ stale_model: 2, checksum: 1 })
    expect(s.evaluations).toEqual([{ modelVersion: 1, users: 2, hr10: 0.5, ndcg10: 0.25 }])
    expect(s.history[0]).toMatchObject({ clientUpdateNorm: { mean: 2, max: 3 }, clipped: 0 })
    // The report's key is remembered too: a retry after the restart is not counted again.
    const retry = await a.evaluate(report)
    expect(retry.duplicate).toBe(true)
    expect((await a.status()).evaluations[0]?.users).toBe(2)
  })

  it('replays a clipped update as clipped after a restart', async () => {
    let a = await start({ maxUpdateNorm: 2 })
    await a.submit(
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 4, dim: DIM, bias: [[0, [20]]] }).bytes,
    )
    await stop(a)
    // Even with the bound lifted, what was counted (the clipped update) is what is replayed.
    a = await start({ minClients: 1 })
    expect((await a.status()).history[0]).toMatchObject({ clipped: 1, clientUpdateNorm: { mean: 2, max: 2 } })
    const before = values(snapshot(await start({ store: join(dir, 'other.sqlite') })), ITEM_BIAS)
    expect(values(snapshot(a), ITEM_BIAS)[0]! - before[0]!).toBeCloseTo(2, 5)
  })

  it('prunes the acks of rounds closed longer ago than the retention, and only those', async () => {
    let clock = Date.parse('2030-01-01T00:00:00Z')
    const a = await start({ minClients: 1, ackRetentionSeconds: 3600, now: () => clock })
    const first = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, bias: [[0, [1]]] })
    await a.submit(first.bytes)
    clock += 1000
    const second = makeUpdate({ round: 1, modelVersion: 1, sampleCount: 1, dim: DIM, bias: [[0, [1]]] })
    await a.submit(second.bytes)
    // Within the retention: a late retry of either still gets its ack.
    expect(await a.submit(first.bytes)).toMatchObject({ duplicate: true, round: 0 })
    clock += 3601_000
    await a.submit(
      makeUpdate({ round: 2, modelVersion: 2, sampleCount: 1, dim: DIM, bias: [[0, [1]]] }).bytes,
    )
    // Rounds 0 and 1 closed over an hour before round 2 did: their acks are gone, the retry is refused.
    await expect(a.submit(first.bytes)).rejects.toThrow(expect.objectContaining({ code: 'round_closed' }))
    await expect(a.submit(second.bytes)).rejects.toThrow(expect.objectContaining({ code: 'round_closed' }))
    await stop(a)
    const db = new Database(join(dir, 'store', 's.sqlite'), { readonly: true })
    expect(db.prepare('SELECT round FROM updates ORDER BY round').pluck().all()).toEqual([2])
    db.close()
  })
})

describe('operator reset', () => {
  it('discards updates still waiting for their group commit too, and a restart replays none of them', async () => {
    const a = await start()
    const [u0, u1] = rounds(1, 2)[0]!
    // Submitted in this turn of the event loop: the reset comes before their group commit would.
    const acks = [a.submit(u0!.bytes), a.submit(u1!.bytes)]
    expect(await a.resetRound(0)).toMatchObject({ round: 0, modelVersion: 0, discarded: 2, resets: 1 })
    // They were accepted before the reset, so they were acknowledged — and then discarded.
    expect(await Promise.all(acks)).toEqual([
      expect.objectContaining({ duplicate: false, participants: 1 }),
      expect.objectContaining({ duplicate: false, participants: 2 }),
    ])
    expect(await a.status()).toMatchObject({ participants: 0, samples: 0, resets: 1, discarded: 2 })
    const model = snapshot(a)
    await stop(a)

    const b = await start()
    expect(await b.status()).toMatchObject({ round: 0, participants: 0, samples: 0, resets: 1, discarded: 2 })
    expect(snapshot(b)).toEqual(model)
    await expect(b.submit(u0!.bytes)).rejects.toThrow(expect.objectContaining({ code: 'round_reset' }))
    // Their clients send new updates (new keys) in the reopened round.
    const again = randomUpdate(0, 0, { numItems: NUM_ITEMS, dim: DIM, seed: 77 })
    const mine = makeUpdate({ ...again.update, dim: DIM, clientId: u0!.update.clientId, bias: [[0, [1]]] })
    expect(await b.submit(mine.bytes)).toMatchObject({ round: 0, participants: 1, duplicate: false })
  })

  it('prunes the keys of discarded updates with the acks of their round', async () => {
    let clock = Date.parse('2030-01-01T00:00:00.000Z')
    const a = await start({ minClients: 1, ackRetentionSeconds: 60, now: () => clock })
    const first = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, bias: [[0, [1]]] })
    const acked = a.submit(first.bytes)
    await a.resetRound()
    await acked
    await expect(a.submit(first.bytes)).rejects.toThrow(expect.objectContaining({ code: 'round_reset' }))
    await a.submit(
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, bias: [[1, [1]]] }).bytes,
    )
    clock += 61_000
    await a.submit(
      makeUpdate({ round: 1, modelVersion: 1, sampleCount: 1, dim: DIM, bias: [[1, [1]]] }).bytes,
    )
    // Round 0 closed more than a minute ago: its discarded key went with its acks; a retry that late is simply late.
    await expect(a.submit(first.bytes)).rejects.toThrow(expect.objectContaining({ code: 'round_closed' }))
  })
})

describe('start-up refusals', () => {
  const path = () => join(dir, 'bad.sqlite')

  it('refuses a file of random bytes', async () => {
    writeFileSync(path(), Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 251)))
    await expect(start({ store: path() })).rejects.toThrow(StartupError)
    await expect(start({ store: path() })).rejects.toThrow(/not a readable SQLite database/)
  })

  it('refuses a SQLite database that is not a fedrec store', async () => {
    const db = new Database(path())
    db.exec('CREATE TABLE shoppers (name TEXT)')
    db.close()
    await expect(start({ store: path() })).rejects.toThrow(/not a fedrec aggregator store/)
  })

  it('refuses a store of another schema version', async () => {
    await stop(await start({ store: path() }))
    const db = new Database(path())
    db.prepare(`UPDATE meta SET value = '99' WHERE key = 'schema_version'`).run()
    db.close()
    await expect(start({ store: path() })).rejects.toThrow(/schema version "99"/)
  })

  it('refuses a store whose model blob was damaged', async () => {
    await stop(await start({ store: path() }))
    const db = new Database(path())
    db.prepare(`UPDATE model SET item_bias = x'00'`).run()
    db.close()
    await expect(start({ store: path() })).rejects.toThrow(/model cannot be read/)
  })

  it('refuses a store whose stored update cannot be replayed', async () => {
    const a = await start({ store: path() })
    await a.submit(
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, bias: [[0, [1]]] }).bytes,
    )
    await stop(a)
    const db = new Database(path())
    db.prepare(`UPDATE updates SET payload = x'0102030405060708090a'`).run()
    db.close()
    await expect(start({ store: path() })).rejects.toThrow(
      /stored update 0 of round 0 cannot be replayed \(.*checksum/,
    )
  })

  it('refuses a --dim that contradicts the store', async () => {
    await stop(await start({ store: path() }))
    await expect(start({ store: path(), dim: DIM + 1 })).rejects.toThrow(/dim 3; --dim 4/)
  })

  it('refuses a store that another aggregator holds', async () => {
    await start({ store: path() })
    await expect(start({ store: path() })).rejects.toThrow(/in use by another process/)
  })

  it('refuses a missing store unless asked to create it, and creates nothing', async () => {
    const missing = join(dir, 'gone', 's.sqlite')
    await expect(start({ store: missing, createStore: false })).rejects.toThrow(/does not exist\. .*--init/)
    expect(existsSync(join(dir, 'gone'))).toBe(false)
  })

  it('migrates a store of schema version 1 (before rejections, evaluations and norms)', async () => {
    const a = await start({ store: path(), minClients: 2 })
    await a.submit(
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 2, dim: DIM, bias: [[0, [1]]] }).bytes,
    )
    await stop(a)
    // Back to the version-1 tables, as an aggregator of issue 2 left them.
    const db = new Database(path())
    db.exec(`
      DROP TABLE rejections; DROP TABLE evaluations; DROP TABLE evaluation_reports;
      DROP TABLE discarded_updates; ALTER TABLE rounds DROP COLUMN resets; ALTER TABLE rounds DROP COLUMN discarded;
      ALTER TABLE rounds DROP COLUMN client_norm_mean; ALTER TABLE rounds DROP COLUMN client_norm_max;
      ALTER TABLE rounds DROP COLUMN clipped; ALTER TABLE updates DROP COLUMN norm; ALTER TABLE updates DROP COLUMN clipped;
      DROP TABLE model_changes;
      DROP TABLE secagg_messages; DROP TABLE secagg_members; DROP TABLE secagg_cohorts;
      ALTER TABLE rounds DROP COLUMN dp_noise_multiplier; ALTER TABLE rounds DROP COLUMN dp_sample_rate;
      ALTER TABLE rounds DROP COLUMN dp_clip_norm; ALTER TABLE model DROP COLUMN checksum;
      ALTER TABLE model DROP COLUMN num_features; ALTER TABLE model DROP COLUMN feature_embedding;
      ALTER TABLE model DROP COLUMN feature_bias; ALTER TABLE model DROP COLUMN item_feature_offsets;
      ALTER TABLE model DROP COLUMN item_feature_rows; ALTER TABLE pending_items DROP COLUMN features;
      UPDATE meta SET value = '1' WHERE key = 'schema_version';
    `)
    db.close()
    const b = await start({ store: path(), minClients: 2 })
    expect(await b.status()).toMatchObject({
      participants: 1,
      samples: 2,
      rejections: {},
      evaluations: [],
      resets: 0,
      discarded: 0,
    })
    await b.submit(
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 2, dim: DIM, bias: [[1, [1]]] }).bytes,
    )
    // The update from before the migration has no recorded norm (0); the new one has.
    expect((await b.status()).history[0]).toMatchObject({
      participants: 2,
      clientUpdateNorm: { mean: 0.5, max: 1 },
    })
    await stop(b)
    const check = new Database(path(), { readonly: true })
    expect(check.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get()).toBe(
      String(SCHEMA_VERSION),
    )
    check.close()
  })

  it('initialises an existing but empty file (a crash during the first start leaves one)', async () => {
    writeFileSync(path(), '')
    expect((await start({ store: path() })).roundInfo().numItems).toBe(NUM_ITEMS)
  })
})
