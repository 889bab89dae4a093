// The widget's degraded mode: popular items without a worker or tfjs, so a shopper still sees something.
import { decodeModel, MODEL_MEDIA_TYPE, type ModelSnapshot } from '@fedrec/protocol'
import { isStoredModel, openFedrecDB } from '../db.ts'
import { popularFromSnapshot, type SuggestionSet } from '../suggest.ts'

// One download per page and endpoint, however many widgets fall back at once.
const snapshots = new Map<string, Promise<ModelSnapshot>>()

/**
 * Popular items without the worker (no Worker, no tfjs backend, or the recommender failed to start): the
 * cached model from IndexedDB when that works, else `GET /v1/model`; ranked by item bias on the main thread.
 * With a `shop`, only that shop's items of a model several shops share, under the shop's own ids.
 * No tfjs is involved, only the binary decoder. Rejects when neither source is reachable.
 * @example const { kind, items } = await degradedPopular('https://agg.example/', 'fedrec', 8, new Set())
 */
export async function degradedPopular(
  endpoint: string,
  dbName: string,
  k: number,
  exclude: ReadonlySet<string>,
  shop?: string,
): Promise<SuggestionSet> {
  const key = `${endpoint}|${dbName}`
  let snapshot = snapshots.get(key)
  if (!snapshot) {
    snapshot = loadSnapshot(endpoint, dbName)
    snapshots.set(key, snapshot)
    // A failure is not cached: the next refresh tries again.
    snapshot.catch(() => snapshots.delete(key))
  }
  return popularFromSnapshot(await snapshot, k, exclude, shop)
}

async function loadSnapshot(endpoint: string, dbName: string): Promise<ModelSnapshot> {
  try {
    const db = await openFedrecDB(dbName)
    try {
      const cached: unknown = await db.get('model', 'current')
      if (isStoredModel(cached)) return decodeModel(new Uint8Array(cached.bytes))
    } finally {
      db.close()
    }
  } catch {
    // No IndexedDB (or a damaged cache): the network is the other source.
  }
  const res = await fetch(new URL('v1/model', endpoint), { cache: 'no-store' })
  if (!res.ok) throw new Error(`GET v1/model answered ${res.status}`)
  const type = res.headers.get('content-type') ?? ''
  if (!type.startsWith(MODEL_MEDIA_TYPE)) throw new Error(`GET v1/model answered ${JSON.stringify(type)}`)
  return decodeModel(new Uint8Array(await res.arrayBuffer()))
}
