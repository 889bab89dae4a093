import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeModel, ITEM_BIAS, ITEM_EMBEDDING, type ModelSnapshot, newRandomId } from '@fedrec/protocol'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StartupError } from '../errors.ts'
import { catalogueOf, makeUpdate, randomUpdate } from '../test-support.ts'
import { type Aggregator, AggregatorError, type AggregatorOptions, createAggregator } from './index.ts'

let dir: string
let open: Aggregator[] = []
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fedrec-aggregator-'))
})
afterEach(() => {
  for (const a of open) a.close()
  open = []
  rmSync(dir, { recursive: true, force: true })
})

const NUM_ITEMS = 6
const DIM = 3

function start(options: Partial<AggregatorOptions> = {}): Aggregator {
  const aggregator = createAggregator({
    store: join(dir, 'store', 's.sqlite'),
    catalogue: catalogueOf(NUM_ITEMS),
    dim: DIM,
    seed: 11,
    minClients: 3,
    deadlineTimer: false,
    ...options,
  })
  open.push(aggregator)
  return aggregator
}

function stop(aggregator: Aggregator): void {
  aggregator.close()
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
  it('creates a fresh store with model version 0 when the file is missing', () => {
    const a = start()
    expect(a.roundInfo()).toMatchObject({ round: 0, modelVersion: 0, numItems: NUM_ITEMS, dim: DIM })
    const s = snapshot(a)
    expect(s.itemIds).toEqual(catalogueOf(NUM_ITEMS))
    expect(values(s, ITEM_EMBEDDING).some((v) => v !== 0)).toBe(true)
    expect(values(s, ITEM_BIAS).every((v) => v === 0)).toBe(true)
  })

  it('is deterministic in its seed', () => {
    const a = snapshot(start({ store: join(dir, 'a.sqlite') }))
    const b = snapshot(start({ store: join(dir, 'b.sqlite') }))
    const c = snapshot(start({ store: join(dir, 'c.sqlite'), seed: 12 }))
    expect(values(a, ITEM_EMBEDDING)).toEqual(values(b, ITEM_EMBEDDING))
    expect(values(a, ITEM_EMBEDDING)).not.toEqual(values(c, ITEM_EMBEDDING))
  })

  it('counts every acknowledged update exactly once across a restart', () => {
    const [updates] = rounds(1, 3)
    let a = start()
    a.submit(updates![0]!.bytes)
    a.submit(updates![1]!.bytes)
    stop(a)

    a = start()
    expect(a.status()).toMatchObject({ round: 0, participants: 2, samples: 3 + 4 })
    // A retry after the restart gets its ack and is not counted again.
    expect(a.submit(updates![1]!.bytes)).toMatchObject({ duplicate: true, participants: 2 })
    expect(a.submit(updates![2]!.bytes)).toMatchObject({ duplicate: false, participants: 3 })
    expect(a.roundInfo()).toMatchObject({ round: 1, modelVersion: 1 })
    const restarted = snapshot(a)

    const b = start({ store: join(dir, 'reference.sqlite') })
    for (const u of updates!) b.submit(u.bytes)
    expect(values(restarted, ITEM_EMBEDDING)).toEqual(values(snapshot(b), ITEM_EMBEDDING))
    expect(values(restarted, ITEM_BIAS)).toEqual(values(snapshot(b), ITEM_BIAS))
  })

  it('keeps the model, the history and the server optimizer state across restarts', () => {
    const plan = rounds(3, 3)
    const reference = start({
      store: join(dir, 'reference.sqlite'),
      serverOptimizer: 'fedadam',
      serverLearningRate: 0.1,
    })
    for (const round of plan) for (const u of round) reference.submit(u.bytes)

    for (const round of plan) {
      const a = start({ serverOptimizer: 'fedadam', serverLearningRate: 0.1 })
      for (const u of round) a.submit(u.bytes)
      stop(a)
    }
    const a = start({ serverOptimizer: 'fedadam', serverLearningRate: 0.1 })
    expect(a.roundInfo()).toMatchObject({ round: 3, modelVersion: 3 })
    expect(values(snapshot(a), ITEM_EMBEDDING)).toEqual(values(snapshot(reference), ITEM_EMBEDDING))
    const history = a.status().history
    expect(history.map((h) => [h.round, h.modelVersion, h.participants, h.closedBy])).toEqual([
      [0, 0, 3, 'quorum'],
      [1, 1, 3, 'quorum'],
      [2, 2, 3, 'quorum'],
    ])
    expect(history.every((h) => h.updateNorm > 0)).toBe(true)
  })

  it('drops the payloads of a closed round but keeps the acks', () => {
    const a = start({ minClients: 2 })
    const [updates] = rounds(1, 2)
    for (const u of updates!) a.submit(u.bytes)
    stop(a)
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

  it('queues new catalogue ids on an existing store; they join when the round closes', () => {
    stop(start())
    const a = start({ catalogue: [...catalogueOf(NUM_ITEMS), 'late-1'], minClients: 1 })
    expect(a.roundInfo().numItems).toBe(NUM_ITEMS)
    a.submit(makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, bias: [[0, [1]]] }).bytes)
    expect(a.roundInfo()).toMatchObject({ modelVersion: 1, numItems: NUM_ITEMS + 1 })
    expect(snapshot(a).itemIds.at(-1)).toBe('late-1')
  })

  it('publishes pending items on a deadline even without updates, and only then', () => {
    let now = Date.parse('2030-01-01T00:00:00Z')
    const a = start({ now: () => now })
    now += 301_000
    a.checkDeadline()
    expect(a.roundInfo()).toMatchObject({ round: 0, modelVersion: 0 })
    a.queueCatalogue(['new'])
    now += 301_000
    a.checkDeadline()
    expect(a.roundInfo()).toMatchObject({ round: 1, modelVersion: 1, numItems: NUM_ITEMS + 1 })
    expect(a.status().history).toEqual([
      expect.objectContaining({ participants: 0, closedBy: 'deadline', updateNorm: 0 }),
    ])
  })

  it('starts without a catalogue, refuses updates, and publishes the first items at once', () => {
    const a = start({ catalogue: undefined })
    expect(a.roundInfo()).toMatchObject({ numItems: 0, modelVersion: 0 })
    expect(() => a.submit(makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM }).bytes)).toThrow(
      AggregatorError,
    )
    expect(a.queueCatalogue(['a', 'b'])).toEqual({ added: 2, pending: 0 })
    expect(a.roundInfo()).toMatchObject({ round: 1, modelVersion: 1, numItems: 2 })
    expect(snapshot(a).itemIds).toEqual(['a', 'b'])
  })

  it('refuses an idempotency key reused by another client', () => {
    const a = start()
    const key = newRandomId()
    a.submit(makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, idempotencyKey: key }).bytes)
    const other = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, idempotencyKey: key })
    expect(() => a.submit(other.bytes)).toThrow(expect.objectContaining({ code: 'idempotency_conflict' }))
    expect(a.status().participants).toBe(1)
  })
})

describe('start-up refusals', () => {
  const path = () => join(dir, 'bad.sqlite')

  it('refuses a file of random bytes', () => {
    writeFileSync(path(), Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 251)))
    expect(() => start({ store: path() })).toThrow(StartupError)
    expect(() => start({ store: path() })).toThrow(/not a readable SQLite database/)
  })

  it('refuses a SQLite database that is not a fedrec store', () => {
    const db = new Database(path())
    db.exec('CREATE TABLE shoppers (name TEXT)')
    db.close()
    expect(() => start({ store: path() })).toThrow(/not a fedrec aggregator store/)
  })

  it('refuses a store of another schema version', () => {
    stop(start({ store: path() }))
    const db = new Database(path())
    db.prepare(`UPDATE meta SET value = '99' WHERE key = 'schema_version'`).run()
    db.close()
    expect(() => start({ store: path() })).toThrow(/schema version "99"/)
  })

  it('refuses a store whose model blob was damaged', () => {
    stop(start({ store: path() }))
    const db = new Database(path())
    db.prepare(`UPDATE model SET item_bias = x'00'`).run()
    db.close()
    expect(() => start({ store: path() })).toThrow(/model cannot be read/)
  })

  it('refuses a store whose stored update cannot be replayed', () => {
    const a = start({ store: path() })
    a.submit(makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, bias: [[0, [1]]] }).bytes)
    stop(a)
    const db = new Database(path())
    db.prepare(`UPDATE updates SET payload = x'0102030405060708090a'`).run()
    db.close()
    expect(() => start({ store: path() })).toThrow(
      /stored update 0 of round 0 cannot be replayed \(.*checksum/,
    )
  })

  it('refuses a --dim that contradicts the store', () => {
    stop(start({ store: path() }))
    expect(() => start({ store: path(), dim: DIM + 1 })).toThrow(/dim 3; --dim 4/)
  })

  it('refuses a store that another aggregator holds', () => {
    start({ store: path() })
    expect(() => start({ store: path() })).toThrow(/in use by another process/)
  })

  it('initialises an existing but empty file (a crash during the first start leaves one)', () => {
    writeFileSync(path(), '')
    expect(start({ store: path() }).roundInfo().numItems).toBe(NUM_ITEMS)
  })
})
