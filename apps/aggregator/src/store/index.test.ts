// The composed SQLite store: a fresh file is created, initialised and reopened with every group, and one
// transaction spans the groups (secure aggregation's writes roll back with the round's).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore, SCHEMA_VERSION, STORE_FORMAT } from './index.ts'
import { firstCohort, freshStore } from './test-store.ts'

describe('openStore', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fedrec-store-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('creates a store, then reopens it with its format, version, model and open round', () => {
    const path = join(dir, 'a', 's.sqlite')
    freshStore(path).close()
    const store = openStore(path, { create: false })
    expect(store.isNew).toBe(false)
    expect(store.meta('format')).toBe(STORE_FORMAT)
    expect(store.meta('schema_version')).toBe(String(SCHEMA_VERSION))
    expect(store.meta('salt')).toBe('test')
    expect(store.loadModel().itemIds).toEqual(['a', 'b'])
    expect(Array.from(store.loadModel().itemBias)).toEqual([0, 0.125])
    expect(store.openRound()).toMatchObject({ round: 0, closedAt: null })
    store.close()
  })
})

describe('transaction', () => {
  it('rolls back the writes of every group together', () => {
    const store = freshStore()
    expect(() =>
      store.transaction(() => {
        store.setDeadline(0, '2026-01-01T01:00:00.000Z')
        store.secAgg.insertCohort(firstCohort)
        throw new Error('the close failed')
      }),
    ).toThrow('the close failed')
    expect(store.openRound().deadline).toBe('2026-01-01T00:10:00.000Z')
    expect(store.secAgg.latestCohort()).toBeUndefined()
    store.close()
  })
})
