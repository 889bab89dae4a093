// Schema version 9 (item features) on SQLite: a version-8 store is migrated when opened, and a store of a
// version newer than this aggregator's is refused.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, expect, it } from 'vitest'
import { contractFeatures } from '../feature-contract.ts'
import { openStore } from '../index.ts'
import { freshStore } from '../test-store.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function storeFile(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-v9-'))
  dirs.push(dir)
  const path = join(dir, 'store.sqlite')
  await (await freshStore(path)).close()
  return path
}

/** Takes a store back to the version-8 tables, as an aggregator before item features left it. */
function downgradeToV8(path: string): void {
  const db = new Database(path)
  db.exec(`
    ALTER TABLE model DROP COLUMN num_features; ALTER TABLE model DROP COLUMN feature_embedding;
    ALTER TABLE model DROP COLUMN feature_bias; ALTER TABLE model DROP COLUMN item_feature_offsets;
    ALTER TABLE model DROP COLUMN item_feature_rows; ALTER TABLE pending_items DROP COLUMN features;
    ALTER TABLE model_changes DROP COLUMN feature_rows;
    UPDATE meta SET value = '8' WHERE key = 'schema_version';
  `)
  db.close()
}

it('migrates a version-8 store: its model loads id-only, then keeps features and queued strings', async () => {
  const path = await storeFile()
  const store = openStore(path, { create: false })
  await store.queueItems(['c'], '2026-01-01T00:00:00.000Z')
  await store.close()
  downgradeToV8(path)
  const migrated = openStore(path, { create: false })
  expect(await migrated.meta('schema_version')).toBe('9')
  const model = await migrated.loadModel()
  expect(model.itemIds).toEqual(['a', 'b'])
  expect(model.features).toBeUndefined()
  expect(await migrated.pendingItems()).toEqual(['c'])
  expect(await migrated.queueItems(['d'], '2026-01-01T00:00:00.000Z', new Map([['d', ['cat:x']]]))).toBe(1)
  expect(await migrated.pendingFeatures()).toEqual(new Map([['d', ['cat:x']]]))
  await migrated.saveModel({ ...model, version: 1, features: contractFeatures(2) })
  expect(Array.from((await migrated.loadModel()).features?.items.offsets ?? [])).toEqual([0, 2, 2])
  await migrated.close()
})

it('refuses a store of a newer schema version, as an older aggregator refuses a version-9 store', async () => {
  const path = await storeFile()
  const db = new Database(path)
  db.prepare(`UPDATE meta SET value = '10' WHERE key = 'schema_version'`).run()
  db.close()
  expect(() => openStore(path, { create: false })).toThrow(
    'has schema version "10"; this aggregator reads versions 1 to 9',
  )
})
