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

  it('creates a store, then reopens it with its format, version, model and open round', async () => {
    const path = join(dir, 'a', 's.sqlite')
    await (await freshStore(path)).close()
    const store = openStore(path, { create: false })
    expect(store.isNew).toBe(false)
    expect(await store.meta('format')).toBe(STORE_FORMAT)
    expect(await store.meta('schema_version')).toBe(String(SCHEMA_VERSION))
    expect(await store.meta('salt')).toBe('test')
    expect((await store.loadModel()).itemIds).toEqual(['a', 'b'])
    expect(Array.from((await store.loadModel()).itemBias)).toEqual([0, 0.125])
    expect(await store.openRound()).toMatchObject({ round: 0, closedAt: null })
    await store.close()
  })
})

describe('transaction', () => {
  it('rolls back the writes of every group together when its function rejects', async () => {
    const store = await freshStore()
    await expect(
      store.transaction(async (tx) => {
        await tx.setDeadline(0, '2026-01-01T01:00:00.000Z')
        await tx.secAgg.insertCohort(firstCohort)
        await tx.queueItems(['c'], '2026-01-01T00:00:00.000Z')
        throw new Error('the close failed')
      }),
    ).rejects.toThrow('the close failed')
    expect((await store.openRound()).deadline).toBe('2026-01-01T00:10:00.000Z')
    expect(await store.secAgg.latestCohort()).toBeUndefined()
    expect(await store.pendingItems()).toEqual([])
    await store.close()
  })

  it('commits what its function wrote, the groups’ own transactions nested in it', async () => {
    const store = await freshStore()
    const added = await store.transaction(async (tx) => {
      await tx.addRejections(new Map([['too_large', 2]]))
      return tx.queueItems(['c', 'a'], '2026-01-01T00:00:00.000Z')
    })
    expect(added).toBe(1)
    expect(await store.rejections()).toEqual({ too_large: 2 })
    expect(await store.pendingItems()).toEqual(['c'])
    await store.close()
  })

  it('refuses a call on the outer store from inside, naming the method, and rolls back', async () => {
    const store = await freshStore()
    await expect(
      store.transaction(async (tx) => {
        await tx.setDeadline(0, '2026-01-01T01:00:00.000Z')
        await store.pendingItems()
      }),
    ).rejects.toThrow(
      /store\.pendingItems\(\) was called on the store inside store\.transaction\(\): call tx\.pendingItems\(\)/,
    )
    await expect(store.transaction(async () => store.transaction(async () => 1))).rejects.toThrow(
      'store.transaction() was called on the store inside store.transaction()',
    )
    expect((await store.openRound()).deadline).toBe('2026-01-01T00:10:00.000Z')
    await store.close()
  })

  it('refuses a tx used after its transaction ended', async () => {
    const store = await freshStore()
    const kept = await store.transaction(async (tx) => tx)
    await expect(kept.pendingItems()).rejects.toThrow(
      'tx.pendingItems() was called after its transaction ended',
    )
    await store.close()
  })

  it('runs one transaction at a time: an outer call waits for the open transaction', async () => {
    const store = await freshStore()
    let reopen = (): void => {}
    const gate = new Promise<void>((resolve) => {
      reopen = resolve
    })
    const order: string[] = []
    const first = store.transaction(async (tx) => {
      await tx.queueItems(['c'], '2026-01-01T00:00:00.000Z')
      await gate
      order.push('transaction')
    })
    const read = store.pendingItems().then((items) => {
      order.push('read')
      return items
    })
    reopen()
    await first
    // The read waited for the commit, so it sees the item; a read that ran first would not.
    expect(await read).toEqual(['c'])
    expect(order).toEqual(['transaction', 'read'])
    await store.close()
  })

  it("streams a round's payloads on the store and in a transaction", async () => {
    const store = await freshStore()
    const update = (key: string, byte: number) => ({
      idempotencyKey: key,
      clientHash: key,
      round: 0,
      sampleCount: 1,
      payload: new Uint8Array([byte]),
      ack: '{}',
      receivedAt: '2026-01-01T00:00:01.000Z',
      norm: 1,
      clipped: false,
    })
    await store.insertUpdate(update('k1', 1))
    await store.insertUpdate(update('k2', 2))
    const outer: number[] = []
    for await (const p of store.roundPayloads(0)) outer.push(...p)
    const inner = await store.transaction(async (tx) => {
      const bytes: number[] = []
      for await (const p of tx.roundPayloads(0)) bytes.push(...p)
      await tx.dropPayloads(0)
      return bytes
    })
    expect(outer).toEqual([1, 2])
    expect(inner).toEqual([1, 2])
    const after: Uint8Array[] = []
    for await (const p of store.roundPayloads(0)) after.push(p)
    expect(after).toEqual([])
    await store.close()
  })
})
