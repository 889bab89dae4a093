import type { BackendName, EventWeights } from '@fedrec/core'
import * as Comlink from 'comlink'
import {
  clearAll,
  DEFAULT_DB_NAME,
  type FedrecDatabase,
  openFedrecDB,
  readEvents,
  type StoredEvent,
} from './db.ts'
import type { Recommendation, SyncReport } from './engine.ts'
import { decodeFromTransfer, FedrecError } from './errors.ts'
import { isEventType, type TrackEvent } from './events.ts'
import type { RetryPolicy } from './net.ts'
import type { WorkerApi } from './worker.ts'

/** Options of `createRecommender`. Only `endpoint` is required. */
export interface RecommenderOptions {
  /** Base URL of the aggregation endpoint, e.g. 'https://agg.example/'. */
  endpoint: string
  /** IndexedDB database name; one per shop (default 'fedrec'). */
  dbName?: string
  /** Backends to try in order (default webgl, then wasm, then cpu). */
  backends?: BackendName[]
  /** How much each event type counts as a positive (default purchase 4, add_to_cart 2, click 1). */
  eventWeights?: EventWeights
  /** Network retries of `sync()` (default 4 retries, 300 ms doubling back-off). */
  retry?: RetryPolicy
  /** A worker to use instead of the bundled one (tests, custom bundling). */
  worker?: Worker
}

/** The shop-facing API. Everything heavy runs in a Web Worker; every method is async and non-blocking. */
export interface Recommender {
  /** Records what the shopper did, on this device only (IndexedDB); nothing goes to the network. */
  track(event: TrackEvent): Promise<void>
  /** One federated round: download what changed, train locally, upload only the shared-row deltas. */
  sync(): Promise<SyncReport>
  /** The k best items for this shopper, best first, without items already bought. */
  recommend(options?: { k?: number }): Promise<Recommendation[]>
  /** The shopper's own events, oldest first. */
  history(): Promise<StoredEvent[]>
  /** Erases every local trace: events, user vector, client id and the cached model. */
  forget(): Promise<void>
  /** The tfjs backend the worker uses ('webgl', 'wasm' or 'cpu'). */
  backend(): Promise<BackendName>
  /** Stops the worker and closes the database. The instance is unusable afterwards. */
  close(): void
}

const DEFAULT_BACKENDS: BackendName[] = ['webgl', 'wasm', 'cpu']

/**
 * Creates the recommender for this page.
 * @example
 * const rec = await createRecommender({ endpoint: 'https://agg.example/' })
 * await rec.track({ type: 'click', itemId: 'sku-123' })
 * const items = await rec.recommend({ k: 10 })
 */
export async function createRecommender(options: RecommenderOptions): Promise<Recommender> {
  const endpoint = parseEndpoint(options.endpoint)
  const dbName = options.dbName ?? DEFAULT_DB_NAME
  let db: FedrecDatabase
  try {
    db = await openFedrecDB(dbName)
  } catch (cause) {
    throw new FedrecError('storage', `cannot open IndexedDB "${dbName}": ${String(cause)}`, { cause })
  }
  const worker =
    options.worker ?? new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'fedrec' })
  const remote = Comlink.wrap<WorkerApi>(worker)
  let closed = false

  const call = async <T>(work: () => Promise<T>): Promise<T> => {
    if (closed) throw new FedrecError('closed', 'this recommender was closed')
    try {
      return await work()
    } catch (err) {
      throw decodeFromTransfer(err)
    }
  }

  await call(() =>
    remote.init({
      endpoint,
      dbName,
      backends: options.backends ?? DEFAULT_BACKENDS,
      ...(options.eventWeights ? { eventWeights: options.eventWeights } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
    }),
  )

  return {
    async track(event) {
      if (closed) throw new FedrecError('closed', 'this recommender was closed')
      const checked = checkEvent(event)
      try {
        await db.add('events', { ...checked, ts: Date.now() })
      } catch (cause) {
        // e.g. QuotaExceededError: say so; nothing already stored is touched.
        throw new FedrecError('storage', `could not store the event: ${String(cause)}`, { cause })
      }
    },
    sync: () => call(() => remote.sync()),
    recommend: ({ k = 10 } = {}) => {
      if (!Number.isInteger(k) || k < 1)
        throw new FedrecError('bad_option', `k must be a positive integer, got ${k}`)
      return call(() => remote.recommend(k))
    },
    history: () => call(() => readEvents(db)),
    async forget() {
      await call(() => remote.forget())
      await clearAll(db)
    },
    backend: () => call(() => remote.backend()) as Promise<BackendName>,
    close() {
      if (closed) return
      closed = true
      remote.close().catch(() => undefined)
      remote[Comlink.releaseProxy]()
      worker.terminate()
      db.close()
    },
  }
}

function parseEndpoint(endpoint: unknown): string {
  if (typeof endpoint !== 'string') throw new FedrecError('bad_option', 'endpoint must be a URL string')
  let url: URL
  try {
    url = new URL(endpoint, globalThis.location?.href)
  } catch (cause) {
    throw new FedrecError('bad_option', `endpoint ${JSON.stringify(endpoint)} is not a URL`, { cause })
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  return url.toString()
}

function checkEvent(event: unknown): TrackEvent {
  if (typeof event !== 'object' || event === null)
    throw new FedrecError('bad_event', 'track() needs an object')
  const { type, itemId, source } = event as Record<string, unknown>
  if (!isEventType(type)) {
    throw new FedrecError(
      'bad_event',
      `event type must be click, add_to_cart or purchase, got ${JSON.stringify(type)}`,
    )
  }
  if (typeof itemId !== 'string' || itemId.length === 0 || itemId.length > 256) {
    throw new FedrecError(
      'bad_event',
      `itemId must be a non-empty string of at most 256 characters, got ${JSON.stringify(itemId)}`,
    )
  }
  if (source !== undefined && typeof source !== 'string')
    throw new FedrecError('bad_event', 'source must be a string')
  return source === undefined ? { type, itemId } : { type, itemId, source }
}
