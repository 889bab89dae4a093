// Proves the library heals a device's damaged storage (cached model, profile) instead of failing every sync.
import { isRandomId } from '@fedrec/protocol'
import { expect, tasteProfiles, test } from './kit/index.ts'

// A device's own storage goes bad (a flipped byte, a half-written record, an extension poking at IndexedDB):
// the library must heal it and carry on, never fail every sync for good. Real Chromium, real aggregator.

/** Runs in the page: flips one byte in the middle of the cached model, as damage on the device would. */
async function damageCachedModel(): Promise<number> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open('fedrec')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  const version = await new Promise<number>((resolve, reject) => {
    const tx = db.transaction('model', 'readwrite')
    const store = tx.objectStore('model')
    const get = store.get('current')
    get.onsuccess = () => {
      const bytes = new Uint8Array(get.result.bytes)
      bytes[bytes.length >> 1]! ^= 0x10
      store.put({ ...get.result, bytes: bytes.buffer })
      tx.oncomplete = () => resolve(get.result.modelVersion)
    }
    tx.onerror = () => reject(tx.error)
  })
  db.close()
  return version
}

/** Runs in the page: reads or overwrites fields of the stored profile (the shopper's id and vector). */
async function profileRecord(
  change: { clientId: string; userVectorNaN: boolean } | null,
): Promise<{ clientId: unknown; userVector: number[] | null; lastRound: unknown }> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open('fedrec')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  const record = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const tx = db.transaction('profile', 'readwrite')
    const store = tx.objectStore('profile')
    const get = store.get('self')
    get.onsuccess = () => {
      const r = get.result as Record<string, unknown>
      if (change) {
        const vector = r.userVector as Float32Array
        r.clientId = change.clientId
        if (change.userVectorNaN) r.userVector = new Float32Array(vector.length).fill(Number.NaN)
        store.put(r)
      }
      tx.oncomplete = () => resolve(r)
    }
    tx.onerror = () => reject(tx.error)
  })
  db.close()
  const vector = record.userVector
  return {
    clientId: record.clientId,
    userVector: vector instanceof Float32Array ? Array.from(vector) : null,
    lastRound: record.lastRound,
  }
}

test('a damaged cached model at the current version is downloaded again, not revalidated into a 304', async ({
  qa,
}) => {
  // Quorum out of reach: the round stays open, so the cached model stays the current version.
  const agg = await qa.aggregator({ minClients: 3, seed: 11 })
  const [profile] = tasteProfiles({ shoppers: 1, products: qa.products, events: 8, seed: 5 })
  const shopper = await qa.shopper(agg, profile!)
  expect((await shopper.sync()).uploaded).toBe(true)
  const version = await shopper.page.evaluate(damageCachedModel)
  expect(version).toBe(0)
  // A new tab's worker starts from IndexedDB's (damaged) copy.
  await shopper.reopen()

  const report = await shopper.sync()
  expect(report).toMatchObject({ modelVersion: 0, uploaded: false })
  const download = shopper.requestsTo('v1/model').at(-1)!
  expect(download.status).toBe(200)
  expect(await download.request.headerValue('if-none-match')).toBeNull()
  // What is cached now is the server's model, byte for byte, and recommending works from it.
  const served = new Uint8Array(await (await fetch(`${agg.url}v1/model`)).arrayBuffer())
  expect((await download.request.response())!.headers().etag).toBe('"v0"')
  expect(new Uint8Array(await (await download.request.response())!.body())).toEqual(served)
  const items = await shopper.recommend(5)
  expect(items).toHaveLength(5)
  for (const item of items) expect(Number.isFinite(item.score)).toBe(true)
})

test('a damaged profile heals: a fresh client id, a user vector learnt again, one clear warning', async ({
  qa,
}) => {
  const agg = await qa.aggregator({ minClients: 2, seed: 12 })
  const profiles = tasteProfiles({ shoppers: 2, products: qa.products, events: 8, seed: 6 })
  const shoppers = await qa.shoppers(agg, profiles)
  const [first] = shoppers
  // Round 0 closes on quorum: round 1 is open, so the healed device has a round to contribute to.
  await qa.round(agg, shoppers)
  const before = await first!.page.evaluate(profileRecord, null)
  expect(isRandomId(before.clientId)).toBe(true)
  await first!.page.evaluate(profileRecord, { clientId: 'not-a-hex-id', userVectorNaN: true })
  // Listening before the page opens: its widget reads the profile (to score) as soon as it loads, so the
  // healing may happen before the sync does.
  const warnings: string[] = []
  first!.context.on('console', (m) => {
    if (m.type() === 'warning') warnings.push(m.text())
  })
  await first!.reopen()

  const report = await first!.sync()
  expect(report).toMatchObject({ round: 1, uploaded: true })
  const after = await first!.page.evaluate(profileRecord, null)
  expect(isRandomId(after.clientId)).toBe(true)
  expect(after.clientId).not.toBe(before.clientId)
  expect(after.userVector!.every(Number.isFinite)).toBe(true)
  expect(after.lastRound).toBe(1)
  expect(warnings.filter((w) => /fedrec: the profile stored on this device was damaged/.test(w))).toEqual([
    expect.stringMatching(/clientId, userVector\); it was reset — a fresh client id, the taste profile/),
  ])
  const items = await first!.recommend(5)
  expect(items).toHaveLength(5)
  for (const item of items) expect(Number.isFinite(item.score)).toBe(true)
})
