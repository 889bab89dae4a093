// QA scenario: IndexedDB failures (out of quota, an upgrade blocked by an old tab) give a clear error and
// lose no data.
import { expect, fillStorage, freeStorage, test } from '../kit/index.ts'

test('IndexedDB out of quota: a clear storage error through the API, and the store intact afterwards', {
  tag: '@storage',
}, async ({ qa }) => {
  const recorder = qa.recorder('storage-quota')
  const population = qa.population(1)
  const agg = await qa.aggregator({ minClients: 1, catalogue: population.catalogue })
  // 1 MB for the origin: plenty for the shop; then the rest of the site fills it up.
  const shopper = await qa.shopper(agg, population.profiles[0]!, { storageQuota: 1_000_000 })
  const first = await shopper.sync()
  expect(first.uploaded).toBe(true)
  const history = await shopper.history()
  const extra = population.profiles[0]!.events[0]!

  const filled = await fillStorage(shopper)
  const tracked = await shopper.page.evaluate(async (event) => {
    try {
      await window.fedrec.track(event)
      return null
    } catch (err) {
      const e = err as { name?: unknown; code?: unknown; message?: unknown }
      return { name: e.name, code: e.code, message: String(e.message) }
    }
  }, extra)
  expect(tracked).toMatchObject({ name: 'FedrecError', code: 'storage' })
  expect(tracked?.message).toMatch(/QuotaExceeded/)
  // The round closed on quorum, so this sync downloads a new model and cannot cache it.
  const synced = await shopper.trySync()
  expect(synced.ok).toBe(false)
  if (!synced.ok) {
    expect(synced.error.code).toBe('storage')
    expect(synced.error.message).toMatch(/QuotaExceeded/)
  }

  // Space again: nothing was half-written, everything reads, and the next round goes through.
  await freeStorage(shopper)
  expect(await shopper.history()).toEqual(history)
  expect(await shopper.recommend(5)).toHaveLength(5)
  const after = await shopper.sync()
  expect(after.uploaded).toBe(true)
  expect(after.round).toBe(first.round + 1)
  recorder.measure('quota', { filled, trackError: tracked, syncError: synced.ok ? null : synced.error })
})

test('a tab holding the old schema open blocks the upgrade: a clear storage error, and no data lost', {
  tag: '@storage',
}, async ({ qa, browser, baseURL }) => {
  const recorder = qa.recorder('storage-blocked')
  const agg = await qa.aggregator({ minClients: 1 })
  const itemId = qa.products[0]!.id
  const context = await browser.newContext({ baseURL: baseURL! })
  try {
    // A tab of the same origin that opened the database at schema version 1 (as an older release of the
    // library did), wrote an event, and keeps its connection open without ever yielding to an upgrade.
    const old = await context.newPage()
    await old.goto('/catalogue.json')
    const ts = await old.evaluate(async (itemId) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('fedrec', 1)
        req.onupgradeneeded = () => {
          const events = req.result.createObjectStore('events', { keyPath: 'id', autoIncrement: true })
          events.createIndex('byItem', 'itemId')
          events.createIndex('byTs', 'ts')
          req.result.createObjectStore('profile', { keyPath: 'key' })
          req.result.createObjectStore('model', { keyPath: 'key' })
        }
        req.onsuccess = () => resolve(req.result)
        req.onerror = () => reject(req.error)
      })
      const ts = Date.now()
      await new Promise((resolve, reject) => {
        const tx = db.transaction('events', 'readwrite')
        tx.objectStore('events').add({ type: 'purchase', itemId, ts })
        tx.oncomplete = resolve
        tx.onerror = () => reject(tx.error)
      })
      ;(globalThis as unknown as { oldConnection: IDBDatabase }).oldConnection = db
      return ts
    }, itemId)

    const shop = await context.newPage()
    const query = new URLSearchParams({ endpoint: agg.url, syncEvery: '0', syncAfter: '0' })
    await shop.goto(`/?${query}`)
    const started = await shop.evaluate(() =>
      window.fedrecReady.then(
        () => null,
        (err: { name?: unknown; code?: unknown; message?: unknown }) => ({
          name: err.name,
          code: err.code,
          message: String(err.message),
        }),
      ),
    )
    expect(started).toMatchObject({ name: 'FedrecError', code: 'storage' })
    expect(started?.message).toMatch(/another tab/)

    // The old tab lets go: the upgrade runs, and what it had stored is still there.
    await old.evaluate(() => (globalThis as unknown as { oldConnection: IDBDatabase }).oldConnection.close())
    await shop.reload()
    await shop.evaluate(() => window.fedrecReady)
    const history = await shop.evaluate(() => window.fedrec.history())
    expect(history).toEqual([{ id: 1, type: 'purchase', itemId, ts }])
    // The sync runs on the upgraded store. One purchase is one item: the next-item model has no next item to
    // learn from in it, so the round is joined with nothing to upload (an empty update is refused).
    const report = await shop.evaluate(() => window.fedrec.sync())
    expect(report).toMatchObject({ uploaded: false, samples: 0 })
    recorder.measure('blocked', { error: started })
  } finally {
    await context.close()
  }
})
