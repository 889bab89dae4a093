// Model patches from the aggregator's change log: they rebuild the served model byte for byte, cover catalogue
// growth, give way to the whole model when that is smaller or the log does not reach back, and survive a
// restart and a migration from the schema before the log.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applyModelPatch, decodeModel, decodeModelPatch, type ModelSnapshot } from '@fedrec/protocol'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SCHEMA_VERSION } from '../store/index.ts'
import { catalogueOf, makeUpdate } from '../test-support.ts'
import { type Aggregator, AggregatorError, type AggregatorOptions, createAggregator } from './index.ts'

let dir: string
let open: Aggregator[] = []
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fedrec-patches-'))
})
afterEach(async () => {
  await Promise.all(open.map((a) => a.close()))
  open = []
  rmSync(dir, { recursive: true, force: true })
})

const NUM_ITEMS = 200
const DIM = 4
const path = () => join(dir, 's.sqlite')

async function start(options: Partial<AggregatorOptions> = {}): Promise<Aggregator> {
  const a = await createAggregator({
    negativesPerPositive: 1000,
    store: path(),
    catalogue: catalogueOf(NUM_ITEMS),
    dim: DIM,
    seed: 5,
    minClients: 1,
    deadlineTimer: false,
    ...options,
  })
  open.push(a)
  return a
}

async function stop(a: Aggregator): Promise<void> {
  await a.close()
  open = open.filter((x) => x !== a)
}

/** One round closed by one update touching `rows`. */
async function closeRound(a: Aggregator, rows: number[]): Promise<void> {
  const { round, modelVersion } = a.roundInfo()
  await a.submit(
    makeUpdate({
      round,
      modelVersion,
      sampleCount: 3,
      dim: DIM,
      embedding: rows.map((r) => [r, [0.1, -0.2, 0.3, 0.05 * (r % 7)]] as const),
      bias: rows.map((r) => [r, [0.01 * r]] as const),
    }).bytes,
  )
  expect(a.roundInfo().modelVersion).toBe(modelVersion + 1)
}

const model = (a: Aggregator): ModelSnapshot => decodeModel(a.model().bytes)

async function expectPatchRebuilds(a: Aggregator, base: ModelSnapshot): Promise<Uint8Array> {
  const patch = await a.modelPatch(base.modelVersion)
  expect(patch).toBeDefined()
  expect(patch!.bytes.byteLength).toBeLessThan(a.model().bytes.byteLength)
  const { bytes } = await applyModelPatch(base, decodeModelPatch(patch!.bytes))
  expect(bytes).toEqual(a.model().bytes)
  return patch!.bytes
}

describe('model patches', () => {
  it('rebuild the served model byte for byte from one or several versions back', async () => {
    const a = await start()
    const v0 = model(a)
    await closeRound(a, [3, 50, 199])
    const v1 = model(a)
    const one = await expectPatchRebuilds(a, v0)
    expect(Array.from(decodeModelPatch(one).rowIds)).toEqual([3, 50, 199])
    await closeRound(a, [50, 120])
    const two = await expectPatchRebuilds(a, v0)
    expect(Array.from(decodeModelPatch(two).rowIds)).toEqual([3, 50, 120, 199])
    await expectPatchRebuilds(a, v1)
    // From the current version: an empty patch (the client had it but sent no If-None-Match).
    const none = decodeModelPatch((await a.modelPatch(2))!.bytes)
    expect(none.rowIds.length).toBe(0)
  })

  it('carry the items added to the catalogue, and only what changed of the old rows', async () => {
    const a = await start()
    const v0 = model(a)
    await a.queueCatalogue(['late-1', 'late-2'])
    await closeRound(a, [7])
    const patch = decodeModelPatch(await expectPatchRebuilds(a, v0))
    expect(patch).toMatchObject({ baseItemCount: NUM_ITEMS, numItems: NUM_ITEMS + 2 })
    expect(patch.addedItemIds).toEqual(['late-1', 'late-2'])
    expect(Array.from(patch.rowIds)).toEqual([7, NUM_ITEMS, NUM_ITEMS + 1])
  })

  it('give way to the whole model when it is smaller, and record nothing with --model-log 0', async () => {
    // Every row changed: the patch still leaves out the id table, so with ids of a few bytes it wins…
    const a = await start()
    const all = Array.from({ length: NUM_ITEMS }, (_, i) => i)
    await closeRound(a, all)
    expect((await a.modelPatch(0))!.bytes.byteLength).toBeLessThan(a.model().bytes.byteLength)
    await stop(a)
    rmSync(path())
    // …but with one-byte ids (2 + 1 bytes each) its 4-byte row ids make it larger: the whole model it is.
    const tiny = Array.from({ length: 90 }, (_, i) => String.fromCharCode(33 + i))
    const b = await start({ catalogue: tiny })
    await closeRound(
      b,
      tiny.map((_, i) => i),
    )
    expect(await b.modelPatch(0)).toBeUndefined()
    await closeRound(b, [1])
    expect(await b.modelPatch(1)).toBeDefined()
    await stop(b)
    const c = await start({ catalogue: tiny, modelLogVersions: 0 })
    await closeRound(c, [1])
    expect(await c.modelPatch(2)).toBeUndefined()
    expect(await c.modelPatch(1)).toBeUndefined()
  })

  it('reach back --model-log versions, survive a restart, and refuse a since after the current version', async () => {
    let a = await start({ modelLogVersions: 2 })
    const snapshots = [model(a)]
    for (const rows of [[1], [2], [3]]) {
      await closeRound(a, rows)
      snapshots.push(model(a))
    }
    // The log keeps versions 2 and 3: it reaches back to version 1, not to 0.
    expect(await a.modelPatch(0)).toBeUndefined()
    expect(await a.modelPatch(1)).toBeDefined()
    await stop(a)
    a = await start({ modelLogVersions: 2 })
    await expectPatchRebuilds(a, snapshots[1]!)
    await expectPatchRebuilds(a, snapshots[2]!)
    for (const bad of [4, -1, 1.5]) {
      await expect(a.modelPatch(bad)).rejects.toThrow(AggregatorError)
      await expect(a.modelPatch(bad)).rejects.toThrow(
        /since must be a model version from 0 to the current one \(3\)/,
      )
    }
  })

  it('start after a migration from schema version 4 (no change log yet): the whole model until rounds close', async () => {
    const a = await start()
    await closeRound(a, [4])
    await stop(a)
    const db = new Database(path())
    // Back to schema version 4: without the change log and what later versions added.
    db.exec(`
      DROP TABLE model_changes; ALTER TABLE rounds DROP COLUMN dp_noise_multiplier;
      ALTER TABLE rounds DROP COLUMN dp_sample_rate; ALTER TABLE rounds DROP COLUMN dp_clip_norm;
      ALTER TABLE model DROP COLUMN checksum;
      DROP INDEX evaluation_reports_client; ALTER TABLE evaluation_reports DROP COLUMN client_hash;
      ALTER TABLE model DROP COLUMN num_features; ALTER TABLE model DROP COLUMN feature_embedding;
      ALTER TABLE model DROP COLUMN feature_bias; ALTER TABLE model DROP COLUMN item_feature_offsets;
      ALTER TABLE model DROP COLUMN item_feature_rows; ALTER TABLE pending_items DROP COLUMN features;
      UPDATE meta SET value = '4' WHERE key = 'schema_version';
    `)
    db.close()
    const b = await start()
    const v1 = model(b)
    expect(await b.modelPatch(0)).toBeUndefined()
    await closeRound(b, [5])
    await expectPatchRebuilds(b, v1)
    await stop(b)
    const check = new Database(path(), { readonly: true })
    expect(check.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get()).toBe(
      String(SCHEMA_VERSION),
    )
    check.close()
  })
})
