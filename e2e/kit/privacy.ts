// The privacy check of the QA scenarios: a shopper's recorded traffic must carry nothing of its history.
import { decodeUpdate, float16Bits, ITEM_BIAS, ITEM_EMBEDDING, parseEvaluationReport } from '@fedrec/protocol'
import { expect } from '@playwright/test'
import type { Shopper } from './shopper.ts'

const ALLOWED = new Set([
  'GET /v1/round',
  'GET /v1/model',
  'POST /v1/updates',
  'OPTIONS /v1/updates',
  'POST /v1/evaluations',
  'OPTIONS /v1/evaluations',
])

/**
 * Asserts that everything this shopper's browser sent is a static GET to the shop or the federated protocol
 * to the aggregator: no history, no item id, no timestamp, no user vector in any upload. Returns the number
 * of update uploads seen.
 * @example const uploads = await expectOnlyProtocolTraffic(shopper, { shop: baseURL, itemIds })
 */
export async function expectOnlyProtocolTraffic(
  shopper: Shopper,
  { shop, aggregator, itemIds }: { shop: string; aggregator: string; itemIds: readonly string[] },
): Promise<number> {
  const userVector = await shopper.page.evaluate(readUserVector)
  expect(userVector, `${shopper.name} has a trained user vector`).not.toBeNull()
  const shopOrigin = new URL(shop).origin
  const aggOrigin = new URL(aggregator).origin
  let uploads = 0
  for (const t of shopper.traffic) {
    const req = t.request
    const url = new URL(t.url)
    if (url.protocol === 'data:' || url.protocol === 'blob:') continue
    if (url.origin === shopOrigin) {
      expect(req.method(), `${shopper.name}: ${t.url}`).toBe('GET')
      expect(req.postDataBuffer()).toBeNull()
      continue
    }
    expect(url.origin, `${shopper.name} talked to an unexpected origin: ${t.url}`).toBe(aggOrigin)
    expect(ALLOWED.has(`${t.method} ${url.pathname}`), `${t.method} ${url.pathname}`).toBe(true)
    // The one query a shopper sends: the model version it already holds (as its If-None-Match does), so that
    // only what changed since comes back.
    const query = t.method === 'GET' && url.pathname.endsWith('/v1/model') ? /^(\?since=\d+)?$/ : /^$/
    expect(url.search, `${t.method} ${url.pathname}${url.search}`).toMatch(query)
    expect(await req.headerValue('cookie')).toBeNull()
    const body = req.postDataBuffer()
    if (t.method !== 'POST') {
      expect(body).toBeNull()
      continue
    }
    if (url.pathname.endsWith('/v1/evaluations')) {
      parseEvaluationReport(JSON.parse(body!.toString('utf8'))) // only the sums, nothing else
      continue
    }
    uploads++
    const bytes = new Uint8Array(body!)
    const update = decodeUpdate(bytes) // throws unless it is exactly the update format
    expect(update.tensors.map((x) => x.name).sort()).toEqual([ITEM_BIAS, ITEM_EMBEDDING].sort())
    const text = Buffer.from(bytes).toString('latin1')
    for (const id of itemIds) expect(text.includes(id), `item id ${id} in an upload`).toBe(false)
    for (const word of ['click', 'add_to_cart', 'purchase', '"ts"', String(new Date().getUTCFullYear())])
      expect(text.includes(word), `${word} in an upload`).toBe(false)
    // By default no private vector is kept (issue 13: the state is pooled from the history, on the device, and
    // never stored), so the stored vector is zero and there is nothing of it to find; when one is kept it must
    // not appear in an upload.
    if (userVector!.some((v) => v !== 0)) {
      expect(containsFloats(bytes, userVector!), `${shopper.name}'s user vector in an upload`).toBe(false)
    }
  }
  return uploads
}

/** Runs in the page: the private user vector as the library stored it. */
async function readUserVector(): Promise<number[] | null> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open('fedrec')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  const profile = await new Promise<{ userVector: Float32Array | null } | undefined>((resolve, reject) => {
    const req = db.transaction('profile').objectStore('profile').get('self')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  db.close()
  return profile?.userVector ? Array.from(profile.userVector) : null
}

/**
 * True when the float32 bytes of `vector`'s first 8 components, or their float16 bytes (uploads may carry
 * float16 deltas), appear in `bytes`.
 */
function containsFloats(bytes: Uint8Array, vector: number[]): boolean {
  const head = vector.slice(0, 8)
  const needles = [
    new Uint8Array(Float32Array.from(head).buffer),
    new Uint8Array(Uint16Array.from(head, float16Bits).buffer),
  ]
  return needles.some((needle) => {
    outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
      for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer
      return true
    }
    return false
  })
}
