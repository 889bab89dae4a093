// The shopper side of a QA scenario: the demo shop opened for one simulated shopper and driven as a person
// would, with its traffic kept for the assertions.
import type { Recommendation, RecommenderOptions, StoredEvent, SyncReport } from '@fedrec/browser'
import type { Browser, BrowserContext, Page, Request } from '@playwright/test'
import type { HistoryEvent, ShopperProfile } from './histories.ts'

/** A tfjs backend: 'webgl', 'wasm' or 'cpu'. */
export type BackendName = NonNullable<RecommenderOptions['backends']>[number]

/** One request a shopper's browser made (its page and its worker alike). */
export interface Traffic {
  method: string
  url: string
  /** HTTP status; null when the request failed (offline, aborted, connection refused). */
  status: number | null
  /** Playwright's failure text, e.g. 'net::ERR_INTERNET_DISCONNECTED'. */
  failure?: string
  /** Request body bytes. */
  bytesUp: number
  /** Response body bytes (0 until the request finished). */
  bytesDown: number
  /** Milliseconds since the epoch. */
  startedAt: number
  endedAt: number | null
  request: Request
}

/** A FedrecError as it crossed `page.evaluate`: its fields, since classes do not cross. */
export interface SyncFailure {
  name: string
  code: string | null
  message: string
}

export type SyncOutcome = { ok: true; report: SyncReport } | { ok: false; error: SyncFailure }

export interface ShopperOptions {
  /** The aggregator's base URL. */
  endpoint: string
  /** The shop's base URL, for a new context (default: the browser's, i.e. Playwright's `baseURL`). */
  baseURL?: string
  profile: ShopperProfile
  /** Force tfjs backends, e.g. ['wasm'] (default: the library's webgl → wasm → cpu). */
  backends?: BackendName[]
  /**
   * Storage quota of the shop's origin in bytes (Chrome DevTools Protocol), set before the shop first opens
   * its database: Chromium applies an override only to storage opened after it. Needs `baseURL`.
   */
  storageQuota?: number
  /**
   * Open the shop in this existing context instead of a new one: a second tab of the same shopper (same
   * IndexedDB, same client id).
   */
  context?: BrowserContext
}

/**
 * One simulated shopper: a browser context with the demo shop open, driven through the library's QA hooks
 * (`window.fedrec`, see apps/storefront/src/qa-hooks.ts), with everything it sent and received recorded.
 */
export interface Shopper {
  readonly name: string
  readonly profile: ShopperProfile
  readonly context: BrowserContext
  /** The shop tab; a new one after `reopen()`. */
  readonly page: Page
  /** Every sync report, in order. */
  readonly reports: SyncReport[]
  /** Every request of this shopper's tab (page and worker). */
  readonly traffic: Traffic[]
  /** Console errors and uncaught page errors. */
  readonly errors: string[]
  track(events: readonly HistoryEvent[]): Promise<void>
  /** One federated round; rejects with the library's error message when it fails. */
  sync(): Promise<SyncReport>
  /** One federated round, with a failure returned (name, code, message) instead of thrown. */
  trySync(): Promise<SyncOutcome>
  recommend(k?: number): Promise<Recommendation[]>
  backend(): Promise<BackendName>
  history(): Promise<StoredEvent[]>
  /** Requests to the aggregator whose path ends with `path`, e.g. 'v1/updates'. */
  requestsTo(path: string, method?: string): Traffic[]
  /** Closes the tab (its worker dies with it); the context and its IndexedDB stay, as after closing a tab. */
  closeTab(): Promise<void>
  /** Opens the shop again in a new tab of the same context: the same shopper coming back. */
  reopen(): Promise<void>
  /** Closes this tab; closes the context too unless it was borrowed (`options.context`). */
  close(): Promise<void>
}

/**
 * Opens the demo shop for one shopper, with background sync off (the scenario decides when rounds run), and
 * tracks the profile's history through the public API.
 * @example const s = await openShopper(browser, { endpoint: agg.url, profile }); const report = await s.sync()
 */
export async function openShopper(browser: Browser, options: ShopperOptions): Promise<Shopper> {
  const { endpoint, profile } = options
  const context =
    options.context ?? (await browser.newContext(options.baseURL ? { baseURL: options.baseURL } : {}))
  const traffic: Traffic[] = []
  const errors: string[] = []
  const reports: SyncReport[] = []
  const query = new URLSearchParams({ endpoint, syncEvery: '0', syncAfter: '0' })
  if (options.backends) query.set('backends', options.backends.join(','))

  let quotaSet = false
  const openTab = async (): Promise<Page> => {
    const tab = await context.newPage()
    recordTraffic(tab, traffic)
    tab.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text())
    })
    tab.on('pageerror', (e) => errors.push(e.message))
    if (options.storageQuota !== undefined && !quotaSet) {
      if (!options.baseURL) throw new Error('storageQuota needs baseURL')
      // The override lives as long as its DevTools session: this one stays open with the context.
      const cdp = await context.newCDPSession(tab)
      await cdp.send('Storage.overrideQuotaForOrigin', {
        origin: new URL(options.baseURL).origin,
        quotaSize: options.storageQuota,
      })
      quotaSet = true
    }
    await tab.goto(`/?${query}`)
    await tab.evaluate(() => window.fedrecReady)
    return tab
  }
  let page = await openTab()

  const shopper: Shopper = {
    name: profile.name,
    profile,
    context,
    get page() {
      return page
    },
    reports,
    traffic,
    errors,
    async track(events) {
      await page.evaluate(async (events) => {
        for (const e of events) await window.fedrec.track(e)
      }, events)
    },
    async sync() {
      const outcome = await shopper.trySync()
      if (!outcome.ok)
        throw new Error(`${profile.name}: sync failed: [${outcome.error.code}] ${outcome.error.message}`)
      return outcome.report
    },
    async trySync() {
      const outcome = await syncIn(page)
      if (outcome.ok) reports.push(outcome.report)
      return outcome
    },
    recommend: (k = 10) => page.evaluate((k) => window.fedrec.recommend({ k }), k),
    backend: () => page.evaluate(() => window.fedrec.backend()),
    history: () => page.evaluate(() => window.fedrec.history()),
    requestsTo(path, method) {
      const origin = new URL(endpoint).origin
      return traffic.filter((t) => {
        const url = new URL(t.url)
        return url.origin === origin && url.pathname.endsWith(path) && (!method || t.method === method)
      })
    },
    async closeTab() {
      await page.close()
    },
    async reopen() {
      if (!page.isClosed()) await page.close()
      page = await openTab()
    },
    async close() {
      if (options.context) await page.close()
      else await context.close()
    },
  }
  if (profile.events.length > 0) await shopper.track(profile.events)
  return shopper
}

/**
 * Records every request of `tab` into `traffic`. Page-level events include the page's dedicated worker, where
 * the library does its networking.
 */
function recordTraffic(tab: Page, traffic: Traffic[]): void {
  const byRequest = new Map<Request, Traffic>()
  tab.on('request', (request) => {
    const t: Traffic = {
      method: request.method(),
      url: request.url(),
      status: null,
      bytesUp: request.postDataBuffer()?.byteLength ?? 0,
      bytesDown: 0,
      startedAt: Date.now(),
      endedAt: null,
      request,
    }
    byRequest.set(request, t)
    traffic.push(t)
  })
  tab.on('requestfinished', async (request) => {
    const t = byRequest.get(request)
    if (!t) return
    t.endedAt = Date.now()
    const response = await request.response().catch(() => null)
    t.status = response?.status() ?? null
    const sizes = await request.sizes().catch(() => null)
    t.bytesDown = sizes?.responseBodySize ?? 0
  })
  tab.on('requestfailed', (request) => {
    const t = byRequest.get(request)
    if (!t) return
    t.endedAt = Date.now()
    t.failure = request.failure()?.errorText ?? 'failed'
  })
}

/** One `window.fedrec.sync()` in `page`, its failure returned as fields (classes do not cross `evaluate`). */
async function syncIn(page: Page): Promise<SyncOutcome> {
  try {
    return await page.evaluate(async () => {
      try {
        return { ok: true as const, report: await window.fedrec.sync() }
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err))
        const code = (e as { code?: unknown }).code
        return {
          ok: false as const,
          error: { name: e.name, code: typeof code === 'string' ? code : null, message: e.message },
        }
      }
    })
  } catch (err) {
    // The tab went away mid-sync (closed, crashed): that is an outcome too.
    const message = err instanceof Error ? err.message : String(err)
    return { ok: false, error: { name: 'TabClosed', code: null, message } }
  }
}
