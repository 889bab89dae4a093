// The library's main entry for shops: the page-side recommender that runs the model in a Web Worker.
import type { BackendName, EventWeights } from '@fedrec/core/client'
import type { RetryPolicy } from '@fedrec/protocol'
import {
  clearAll,
  DEFAULT_DB_NAME,
  type FedrecDatabase,
  isStoredModel,
  isStoredProfile,
  openFedrecDB,
  readEvents,
  type StoredEvent,
} from './db.ts'
import type { Recommendation, SyncReport } from './engine/index.ts'
import { FedrecError } from './errors.ts'
import { isLeaveOut, type LeaveOut, type TrackEvent } from './events.ts'
import { eraseLastLists } from './last-list.ts'
import { createLearningSwitch, type LearningSwitch } from './learning-switch.ts'
import {
  checkEvent,
  checkRerank,
  checkShop,
  checkSuggestRequest,
  parseEndpoint,
  parseFolderUrl,
} from './recommender-input.ts'
import type { RerankOptions, RerankResult } from './rerank.ts'
import type { SuggestionSet, SuggestRequest } from './suggest.ts'
import { connectWorker, type WorkerConnection, watchStart } from './worker-connection.ts'
import { startWorker } from './worker-start.ts'

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
  /**
   * The folder the worker (`worker.js`) and the tfjs `.wasm` files are served from, when not beside this
   * module: a CDN or the shop's static folder holding a copy of the package's files (default: resolved
   * from this module's own URL, which a bundler rewrites to wherever it emits them).
   * @example createRecommender({ endpoint, assetBase: 'https://cdn.example/fedrec/0.1.0/' })
   */
  assetBase?: string
  /**
   * The shop's namespace when several shops share one model through one aggregator (each with its own
   * catalogue, sharing the feature vocabulary): the model's ids of this shop are `<shop>:<id>`. The shop
   * keeps using its own ids — `track({ itemId: 'sku-1' })` trains row `<shop>:sku-1`, and `recommend`,
   * `suggest` and `rerank` answer with `sku-1` — and everything this device ranks or trains against,
   * negatives included, is this shop's items only. 1 to 32 letters, digits, `_` or `-`. Absent: the
   * model's ids are the shop's, as they are.
   * @example createRecommender({ endpoint, shop: 'bramble' })
   */
  shop?: string
  /**
   * A worker to use instead of the bundled one (tests, custom bundling). Hand it over in the task that
   * created it: a start failure is noticed from the call on, so one whose script already failed earlier
   * cannot be told from a slow one.
   */
  worker?: Worker
}

/** The shop-facing API. Everything heavy runs in a Web Worker; every method is async and non-blocking. */
export interface Recommender {
  /** Records what the shopper did, on this device only (IndexedDB); nothing goes to the network. */
  track(event: TrackEvent): Promise<void>
  /** One federated round: download what changed, train locally, upload only the shared-row deltas. */
  sync(): Promise<SyncReport>
  /**
   * The k best items for this shopper, best first, from their recent items on this device. Leaves out what
   * is in the cart or bought (`leaveOut: 'carted'`, the default), only what was bought (`'bought'`) or
   * everything the shopper touched, views included (`'seen'`).
   * @example const items = await rec.recommend({ k: 8, leaveOut: 'seen' })
   */
  recommend(options?: { k?: number; leaveOut?: LeaveOut }): Promise<Recommendation[]>
  /**
   * Recommendations with their kind ('personal', 'similar', 'popular' for a new shopper, or 'none' while
   * the model has no signal) and, per item, the shopper's own item it is closest to ("why this?").
   * @example const { kind, items } = await rec.suggest({ mode: 'similar', itemId: 'sku-1', k: 8 })
   */
  suggest(request?: SuggestRequest): Promise<SuggestionSet>
  /**
   * Orders a list the shop already has — search results, a category page, a set of promotions — for this
   * shopper, on this device: nothing is sent, and no model is downloaded (only the one a sync or an earlier
   * call left here is used). Returns the same ids, each once, best first:
   * - a shopper with history: by their model (their recent items pooled, plus popularity), `kind: 'personal'`;
   * - a new shopper: by the model's popularity (item biases), `kind: 'popular'`;
   * - no trained model on this device yet: the shop's order unchanged, `kind: 'none'`.
   *
   * Ids the model does not know stay at their place in the list (`unknown: 'keep-place'`, default) or go
   * after the known ones (`'last'`), in the shop's order either way. What the shopper bought or carted stays
   * in the list unless `leaveOut` says otherwise; `k` keeps only the first k. `context` ('search',
   * 'promotions', …) is a label echoed back for the shop's analytics; it does not change the order.
   * Rejects with `bad_option` for a list that is not an array of distinct non-empty string ids, or has
   * more than 10,000 of them.
   * @example
   * const { kind, items } = await rec.rerank(searchHits.map((p) => p.id), { context: 'search' })
   * render(items.map((i) => byId(i.itemId)), kind === 'none' ? 'Best match' : 'Picked for you')
   */
  rerank(itemIds: readonly string[], options?: RerankOptions): Promise<RerankResult>
  /** Counts of what this device keeps (for a privacy panel); nothing here is ever sent. */
  localData(): Promise<LocalData>
  /** Pauses (or resumes) learning, remembered on this device: while paused `track()` stores nothing and `sync()` rejects with code 'paused'. */
  setPaused(paused: boolean): Promise<void>
  /** The shopper's own events, oldest first. */
  history(): Promise<StoredEvent[]>
  /** Erases every local trace: events, user vector, client id, the cached model and the widget's last lists. */
  forget(): Promise<void>
  /** The tfjs backend the worker uses ('webgl', 'wasm' or 'cpu'). */
  backend(): Promise<BackendName>
  /** Stops the worker and closes the database. The instance is unusable afterwards. */
  close(): void
}

/** What this device keeps, as counts. */
export interface LocalData {
  /** Interactions recorded (views, add-to-carts, purchases). */
  events: number
  /** Distinct products among them. */
  items: number
  /** Whether a private taste profile (user vector) has been trained. */
  profile: boolean
  /** The cached global model, or null. */
  model: { version: number; bytes: number } | null
  paused: boolean
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
  const assetBase =
    options.assetBase === undefined ? undefined : parseFolderUrl('assetBase', options.assetBase)
  const shop = options.shop === undefined ? undefined : checkShop(options.shop)
  const dbName = options.dbName ?? DEFAULT_DB_NAME
  // A worker the page made may already be failing: watch it before the first await (worker-connection.ts).
  const given = options.worker ? { worker: options.worker, release: () => undefined } : undefined
  const watch = given ? watchStart(given.worker) : undefined
  let db: FedrecDatabase
  try {
    db = await openFedrecDB(dbName)
  } catch (cause) {
    watch?.stop()
    throw new FedrecError('storage', `cannot open IndexedDB "${dbName}": ${String(cause)}`, { cause })
  }
  const learning = createLearningSwitch(db)
  try {
    await learning.read()
  } catch (err) {
    watch?.stop()
    db.close()
    throw err
  }
  let connection: WorkerConnection
  try {
    const started = given ?? startWorker(assetBase)
    connection = await connectWorker(
      started,
      {
        endpoint,
        dbName,
        backends: options.backends ?? DEFAULT_BACKENDS,
        ...(options.eventWeights ? { eventWeights: options.eventWeights } : {}),
        ...(options.retry ? { retry: options.retry } : {}),
        ...(shop === undefined ? {} : { shop }),
      },
      watch ?? watchStart(started.worker),
    )
  } catch (err) {
    db.close()
    throw err
  }
  const { remote, call } = connection
  const open = (): void => {
    if (connection.closed) throw new FedrecError('closed', 'this recommender was closed')
  }

  return {
    async track(event) {
      open()
      const checked = checkEvent(event)
      if (await learning.read()) return
      try {
        await db.add('events', { ...checked, ts: Date.now() })
      } catch (cause) {
        // e.g. QuotaExceededError: say so; nothing already stored is touched.
        throw new FedrecError('storage', `could not store the event: ${String(cause)}`, { cause })
      }
    },
    async sync() {
      open()
      if (await learning.read()) throw new FedrecError('paused', 'learning is paused on this device')
      return call(() => remote.sync())
    },
    // async: bad input rejects the returned promise, like every other failure, instead of throwing.
    async recommend({ k = 10, leaveOut = 'carted' } = {}) {
      if (!Number.isInteger(k) || k < 1)
        throw new FedrecError('bad_option', `k must be a positive integer, got ${k}`)
      if (!isLeaveOut(leaveOut))
        throw new FedrecError(
          'bad_option',
          `leaveOut must be 'carted', 'bought' or 'seen', got ${String(leaveOut)}`,
        )
      return call(() => remote.recommend(k, leaveOut))
    },
    // async: bad input rejects the returned promise, like every other failure, instead of throwing.
    async suggest(request = {}) {
      const checked = checkSuggestRequest(request)
      return call(() => remote.suggest(checked))
    },
    // async: bad input rejects the returned promise, like every other failure, instead of throwing.
    async rerank(itemIds, options = {}) {
      const checked = checkRerank(itemIds, options)
      return call(() => remote.rerank(checked.itemIds, checked.options))
    },
    localData: () => call(() => countLocalData(db, learning)),
    async setPaused(value) {
      open()
      if (typeof value !== 'boolean')
        throw new FedrecError('bad_option', `setPaused() needs true or false, got ${JSON.stringify(value)}`)
      await learning.set(value)
    },
    history: () => call(() => readEvents(db)),
    async forget() {
      await call(() => remote.forget())
      await clearAll(db)
      await eraseLastLists(dbName)
    },
    backend: () => call(() => remote.backend()) as Promise<BackendName>,
    close() {
      if (connection.closed) return
      connection.stop()
      db.close()
    },
  }
}

/** What this device keeps, as counts (for a privacy panel). */
async function countLocalData(db: FedrecDatabase, learning: LearningSwitch): Promise<LocalData> {
  const events = await readEvents(db)
  const profile: unknown = await db.get('profile', 'self')
  const model: unknown = await db.get('model', 'current')
  return {
    events: events.length,
    items: new Set(events.map((e) => e.itemId)).size,
    profile: isStoredProfile(profile) && profile.userVector !== null,
    model: isStoredModel(model) ? { version: model.modelVersion, bytes: model.bytes.byteLength } : null,
    paused: await learning.read(),
  }
}
