// Proves model patches in a real browser: a shopper behind gets only what changed, ends with the server's
// exact model, and falls back to a whole download when a patch does not fit.
import {
  decodeModel,
  decodeUpdate,
  encodeModel,
  MODEL_MEDIA_TYPE,
  MODEL_PATCH_MEDIA_TYPE,
} from '@fedrec/protocol'
import { expect, expectOnlyProtocolTraffic, type Shopper, tasteProfiles, test } from './kit/index.ts'

/**
 * The format version and the per-tensor dtype words (0 = float32, 1 = float16; none in version 1) of every
 * update this shopper's browser posted, read from the bytes it sent (docs/aggregator.md, "Update format").
 */
function uploadFormats(shopper: Shopper): { version: number; dtypes: number[] }[] {
  return shopper.requestsTo('v1/updates', 'POST').map((t) => {
    const bytes = new Uint8Array(t.request.postDataBuffer()!)
    decodeUpdate(bytes) // the update format, or this throws
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const version = view.getUint16(4, true)
    const dtypes: number[] = []
    const align = (n: number) => n + ((4 - (n % 4)) % 4)
    let at = 52
    for (let i = 0; i < view.getUint16(6, true); i++) {
      at = align(at + 1 + bytes[at]!)
      const dtype = version === 1 ? 0 : view.getUint32(at, true)
      if (version !== 1) {
        dtypes.push(dtype)
        at += 4
      }
      const rows = view.getUint32(at, true)
      const cols = view.getUint32(at + 4, true)
      at = align(at + 8 + rows * 4 + rows * cols * (dtype === 1 ? 2 : 4))
    }
    return { version, dtypes }
  })
}

/** Runs in the page: the model the library cached in IndexedDB, as its bytes. */
async function cachedModel(): Promise<{ modelVersion: number; etag: string; bytes: number[] } | null> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open('fedrec')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  const record = await new Promise<{ modelVersion: number; etag: string; bytes: ArrayBuffer } | undefined>(
    (resolve, reject) => {
      const req = db.transaction('model').objectStore('model').get('current')
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    },
  )
  db.close()
  return record ? { ...record, bytes: Array.from(new Uint8Array(record.bytes)) } : null
}

test('a shopper one version behind downloads only what changed and ends with the same model as a full download', async ({
  qa,
  baseURL,
}) => {
  const agg = await qa.aggregator({ minClients: 2, seed: 7 })
  const profiles = tasteProfiles({ shoppers: 2, products: qa.products, events: 8, seed: 3 })
  const shoppers = await qa.shoppers(agg, profiles)
  const [first] = shoppers

  // Round 0: both download model v0 whole and train; the round closes on quorum → v1.
  const round0 = await qa.round(agg, shoppers)
  expect(round0.publishedVersion).toBe(1)
  // The round config says float16 by default (--update-dtype f16): every upload is format version 2 with
  // float16 deltas in both tensors.
  for (const shopper of shoppers) expect(uploadFormats(shopper)).toEqual([{ version: 2, dtypes: [1, 1] }])
  const fullV0 = first!.requestsTo('v1/model').at(-1)!
  expect(new URL(fullV0.url).search).toBe('')

  // Round 1: the shopper holds v0 in IndexedDB and asks only for what changed since.
  await qa.round(agg, shoppers)
  const asked = first!.requestsTo('v1/model').filter((t) => new URL(t.url).search === '?since=0')
  expect(asked.length, 'one request for what changed since v0').toBe(1)
  const patchRequest = asked[0]!
  expect(patchRequest.status).toBe(200)
  const response = (await patchRequest.request.response())!
  expect(response.headers()['content-type']).toBe(MODEL_PATCH_MEDIA_TYPE)
  const patchBytes = (await response.body()).byteLength

  // The same version downloaded whole, as a new shopper would get it.
  const full = await fetch(`${agg.url}v1/model`)
  expect(full.headers.get('content-type')).toBe(MODEL_MEDIA_TYPE)
  const fullBytes = new Uint8Array(await full.arrayBuffer())
  const latest = decodeModel(fullBytes)
  // Round 1 closed too, so v2 is served now; without catalogue growth every version has the same size.
  expect(latest.modelVersion).toBe(2)

  const report = first!.reports.at(-1)!
  // The numbers, in the report (no timing or size target is asserted beyond "smaller").
  test.info().annotations.push({
    type: 'bytes',
    description: `model: ${fullBytes.byteLength} bytes whole; the patch from v0: ${patchBytes} bytes (${((100 * patchBytes) / fullBytes.byteLength).toFixed(1)} %); sync bytesDown ${report.bytesDown}`,
  })
  expect(patchBytes).toBeGreaterThan(0)
  expect(patchBytes).toBeLessThan(fullBytes.byteLength / 2)
  // bytesDown counts the real bytes: round info + the patch + the ack, far below the model.
  expect(report.bytesDown).toBeGreaterThanOrEqual(patchBytes)
  expect(report.bytesDown).toBeLessThan(fullBytes.byteLength / 2)

  // One more sync makes the shopper current (v2, again by a patch): its cached model must be byte for byte
  // the model the server sends whole — the same weights, ids and version.
  await first!.sync()
  const cached = await first!.page.evaluate(cachedModel)
  expect(cached?.modelVersion).toBe(2)
  expect(new Uint8Array(cached!.bytes)).toEqual(fullBytes)
  expect(first!.requestsTo('v1/model').some((t) => new URL(t.url).search === '?since=1')).toBe(true)

  // A patch request carries nothing but the version held; the privacy check still passes.
  await expectOnlyProtocolTraffic(first!, {
    shop: baseURL!,
    aggregator: agg.url,
    itemIds: qa.products.map((p) => p.id),
  })
})

/** Runs in the page: replaces the cached model's bytes (as a damaged or foreign cache would be). */
async function replaceCachedModel(bytes: number[]): Promise<void> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open('fedrec')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  await new Promise<void>((resolve, reject) => {
    const tx = db.transaction('model', 'readwrite')
    const store = tx.objectStore('model')
    const get = store.get('current')
    get.onsuccess = () => store.put({ ...get.result, bytes: new Uint8Array(bytes).buffer })
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error)
  })
  db.close()
}

test('a patch that does not rebuild the server model (its digest differs) falls back to the whole model; the sync succeeds', async ({
  qa,
}) => {
  // This aggregator asks for float32 uploads: browsers then send format version 1, as before float16.
  const agg = await qa.aggregator({ minClients: 2, seed: 8, args: ['--update-dtype', 'f32'] })
  const profiles = tasteProfiles({ shoppers: 2, products: qa.products, events: 8, seed: 4 })
  const shoppers = await qa.shoppers(agg, profiles)
  const [first] = shoppers
  await qa.round(agg, shoppers)
  for (const shopper of shoppers) expect(uploadFormats(shopper)).toEqual([{ version: 1, dtypes: [] }])

  // The cached v0 still decodes (its checksum is right) but its weights are not the server's v0: a store
  // recreated from scratch would leave a shopper holding exactly that.
  const cached = (await first!.page.evaluate(cachedModel))!
  const foreign = decodeModel(new Uint8Array(cached.bytes))
  for (const t of foreign.tensors) for (let i = 0; i < t.values.length; i++) t.values[i]! += 0.001
  await first!.page.evaluate(replaceCachedModel, Array.from(encodeModel(foreign)))
  // The worker keeps the model it last stored in memory; a new tab's worker starts from IndexedDB's copy.
  await first!.reopen()

  const report = await first!.sync()
  expect(report.uploaded).toBe(true)
  const requests = first!.requestsTo('v1/model').slice(-2)
  expect(requests.map((t) => new URL(t.url).search)).toEqual(['?since=0', ''])
  const full = new Uint8Array(await (await fetch(`${agg.url}v1/model`)).arrayBuffer())
  const patchBody = (await (await requests[0]!.request.response())!.body()).byteLength
  // Both downloads are counted: the patch that failed and the model.
  expect(report.bytesDown).toBeGreaterThan(full.byteLength + patchBody)
  const after = (await first!.page.evaluate(cachedModel))!
  expect(new Uint8Array(after.bytes)).toEqual(full)
})
