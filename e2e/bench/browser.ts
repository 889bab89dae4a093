// Figures 1, 2, 3, 4 and 7 of the benchmark (docs/benchmarks.md): the real library in real Chromium against
// real aggregator processes. Prints nothing itself: scripts/bench.ts runs it and prints the tables.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SyncPhases, TrackEvent } from '@fedrec/browser'
import { type Browser, chromium, type Page, type Request } from 'playwright'
import { type RunningAggregator, startAggregator } from '../aggregator.ts'
import { chromiumArgs, chromiumPath } from '../chromium.ts'
import type { BackendName } from '../kit/shopper.ts'
import type {
  BandwidthResult,
  BrowserBenchOptions,
  BrowserBenchResults,
  RecommendResult,
  RecordedRequest,
  StartupResult,
  SyncSample,
  TrainingResult,
} from './browser-results.ts'
import { median, quantile, shopperHistory, writeCatalogue } from './fixtures.ts'
import type { LongTasks, Measured, TrainingProfile } from './page/api.ts'
import { serveBenchPage } from './page-server.ts'

export type * from './browser-results.ts'

export async function runBrowserBench(options: BrowserBenchOptions): Promise<BrowserBenchResults> {
  const { sections, log } = options
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-bench-'))
  const aggregators = new Map<number, RunningAggregator>()
  /** One aggregator per catalogue size; quorum 1, so every upload publishes a new model version. */
  const aggregatorFor = async (items: number): Promise<RunningAggregator> => {
    let agg = aggregators.get(items)
    if (!agg) {
      log(`starting an aggregator with ${items.toLocaleString('en')} items`)
      agg = await startAggregator(
        [
          ...['--catalogue', writeCatalogue(dir, items), '--min-clients', '1', '--round-deadline', '3600'],
          ...['--seed', '1', '--client-rate', '0', '--ip-rate', '0'],
        ],
        join(dir, `store-${items}`),
      )
      aggregators.set(items, agg)
    }
    return agg
  }
  log('building the benchmark page')
  const server = await serveBenchPage(options.port)
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs })
  const results: BrowserBenchResults = {
    chromium: browser.version(),
    training: [],
    profiles: [],
    recommend: [],
    bandwidth: [],
    startup: [],
  }
  try {
    const ctx = { browser, pageUrl: server.url, aggregatorFor, options }
    if (sections.has('training')) {
      results.training = await training(ctx)
      results.profiles = await profiles(ctx)
    }
    if (sections.has('bandwidth')) results.bandwidth = await bandwidth(ctx)
    if (sections.has('recommend') || sections.has('startup')) {
      const { recommend, startup } = await recommendAndStartup(ctx)
      if (sections.has('recommend')) results.recommend = recommend
      if (sections.has('startup')) results.startup = startup
    }
  } finally {
    await browser.close()
    await server.close()
    for (const agg of aggregators.values()) await agg.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return results
}

interface Ctx {
  browser: Browser
  pageUrl: string
  aggregatorFor: (items: number) => Promise<RunningAggregator>
  options: BrowserBenchOptions
}

const traffic = new WeakMap<Page, { list: RecordedRequest[]; pending: Map<Request, RecordedRequest> }>()

/** A fresh browser profile (no IndexedDB, no HTTP cache) with the benchmark page open. */
async function openPage(ctx: Ctx): Promise<Page> {
  const context = await ctx.browser.newContext()
  const page = await context.newPage()
  // Page-level request events include the page's dedicated worker, where the library does its networking.
  const record = { list: [] as RecordedRequest[], pending: new Map<Request, RecordedRequest>() }
  traffic.set(page, record)
  page.on('request', (request) => {
    const entry = { method: request.method(), path: new URL(request.url()).pathname, status: null, bytes: 0 }
    record.list.push(entry)
    record.pending.set(request, entry)
  })
  page.on('requestfinished', async (request) => {
    const entry = record.pending.get(request)
    if (!entry) return
    entry.status = (await request.response().catch(() => null))?.status() ?? null
    entry.bytes = (await request.sizes().catch(() => null))?.responseBodySize ?? 0
    record.pending.delete(request)
  })
  page.on('requestfailed', (request) => record.pending.delete(request))
  await page.goto(ctx.pageUrl)
  await page.waitForFunction(() => 'bench' in window)
  return page
}

const recommenderOptions = (endpoint: string, backend: BackendName) => ({
  endpoint,
  backends: [backend],
  dbName: 'fedrec-bench',
})

async function syncOnce(page: Page): Promise<SyncSample> {
  const record = traffic.get(page)!
  const from = record.list.length
  const m = await page.evaluate(() => window.bench.sync())
  const until = Date.now() + 5_000
  while (record.pending.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
  const requests = record.list.slice(from)
  const r = m.value
  return {
    modelBytes: requests.filter((q) => q.path.includes('/v1/model')).reduce((n, q) => n + q.bytes, 0),
    requests,
    ms: r.ms,
    backend: r.backend,
    samples: r.samples,
    uploaded: r.uploaded,
    modelVersion: r.modelVersion,
    bytesUp: r.bytesUp,
    bytesDown: r.bytesDown,
    phases: r.phases ?? null,
    longTasks: m.longTasks,
  }
}

async function track(page: Page, events: TrackEvent[]): Promise<Measured<void>> {
  return page.evaluate((events) => window.bench.track(events), events)
}

/** Figure 1: sync() per backend and history length; figure 2 takes its long tasks. */
async function training(ctx: Ctx): Promise<TrainingResult[]> {
  const { backends, histories, trainingCatalogue: items, rounds } = ctx.options
  const agg = await ctx.aggregatorFor(items)
  const out: TrainingResult[] = []
  for (const backend of backends) {
    for (const events of histories) {
      ctx.options.log(`training: ${backend}, ${events} events, ${items.toLocaleString('en')} items`)
      const page = await openPage(ctx)
      try {
        await page.evaluate((o) => window.bench.create(o), recommenderOptions(agg.url, backend))
        const tracked = await track(page, shopperHistory({ events, items, seed: events }))
        const first = await syncOnce(page)
        checkBackend(first, backend)
        const measured: SyncSample[] = []
        for (let i = 0; i < rounds; i++) measured.push(await syncOnce(page))
        const trainMs = median(measured.map((s) => s.phases?.train ?? Number.NaN))
        out.push({
          backend,
          events,
          catalogue: items,
          first,
          rounds: measured,
          medianMs: median(measured.map((s) => s.ms)),
          medianPhases: medianPhases(measured),
          samples: median(measured.map((s) => s.samples)),
          samplesPerSecond: median(measured.map((s) => s.samples)) / (trainMs / 1000),
          track: { ms: tracked.ms, longTasks: tracked.longTasks },
        })
      } finally {
        await page.context().close()
      }
    }
  }
  return out
}

/** Figure 1's "what dominates": one 200-event round per backend in the bench-only profile worker. */
async function profiles(ctx: Ctx): Promise<TrainingProfile[]> {
  const { backends, trainingCatalogue: items } = ctx.options
  const agg = await ctx.aggregatorFor(items)
  const events = shopperHistory({ events: 200, items, seed: 200 })
  const out: TrainingProfile[] = []
  for (const backend of backends) {
    ctx.options.log(`training profile: ${backend}, 200 events`)
    const page = await openPage(ctx)
    try {
      out.push(
        await page.evaluate((r) => window.bench.profileTraining(r), { backend, endpoint: agg.url, events }),
      )
    } finally {
      await page.context().close()
    }
  }
  return out
}

/** Figure 4: bytes of a first sync, of one on a changed model, and of one on the cached model. */
async function bandwidth(ctx: Ctx): Promise<BandwidthResult[]> {
  const { catalogues, bandwidthHistories } = ctx.options
  const backend = ctx.options.backends[0] ?? 'webgl'
  const out: BandwidthResult[] = []
  for (const items of catalogues) {
    const agg = await ctx.aggregatorFor(items)
    for (const events of bandwidthHistories) {
      ctx.options.log(`bandwidth: ${events} events, ${items.toLocaleString('en')} items`)
      const history = shopperHistory({ events, items, seed: 1000 + events })
      const page = await openPage(ctx)
      let first: SyncSample
      let changed: SyncSample
      try {
        await page.evaluate((o) => window.bench.create(o), recommenderOptions(agg.url, backend))
        await track(page, history)
        first = await syncOnce(page)
        changed = await syncOnce(page)
      } finally {
        await page.context().close()
      }
      // A shopper who visited before: the current model is in IndexedDB, and nothing published since.
      const again = await openPage(ctx)
      let unchanged: SyncSample
      try {
        await again.evaluate((o) => window.bench.startup(o), recommenderOptions(agg.url, backend))
        await again.reload()
        await again.waitForFunction(() => 'bench' in window)
        await again.evaluate((o) => window.bench.create(o), recommenderOptions(agg.url, backend))
        await track(again, history)
        unchanged = await syncOnce(again)
      } finally {
        await again.context().close()
      }
      const res = await fetch(new URL('v1/model', agg.url), { cache: 'no-store' })
      const denseModelBytes = (await res.arrayBuffer()).byteLength
      out.push({ catalogue: items, events, backend, denseModelBytes, first, changed, unchanged })
    }
  }
  return out
}

/**
 * Figures 3 and 7, one fresh profile per backend and catalogue: cold start (createRecommender() to the first
 * recommendation, model downloaded), reload, warm start (model from IndexedDB), a trained user vector
 * (track + sync), then recommend() latency against plain-JS scoring of the same model in the same page.
 */
async function recommendAndStartup(
  ctx: Ctx,
): Promise<{ recommend: RecommendResult[]; startup: StartupResult[] }> {
  const { backends, catalogues, recommendHistory, recommendRepeats } = ctx.options
  const recommend: RecommendResult[] = []
  const startup: StartupResult[] = []
  for (const items of catalogues) {
    const agg = await ctx.aggregatorFor(items)
    for (const backend of backends) {
      ctx.options.log(`startup and recommend: ${backend}, ${items.toLocaleString('en')} items`)
      const page = await openPage(ctx)
      try {
        const o = recommenderOptions(agg.url, backend)
        const cold = await page.evaluate((o) => window.bench.startup(o), o)
        await page.reload()
        await page.waitForFunction(() => 'bench' in window)
        const warm = await page.evaluate((o) => window.bench.startup(o), o)
        startup.push({ backend, catalogue: items, cold, warm })
        await track(page, shopperHistory({ events: recommendHistory, items, seed: 7 }))
        await syncOnce(page)
        await page.evaluate(() => window.bench.recommend(10)) // the scorer's upload and shaders
        const latencies: number[] = []
        const longTasks: LongTasks = { count: 0, totalMs: 0, maxMs: 0 }
        for (let i = 0; i < recommendRepeats; i++) {
          const m = await page.evaluate(() => window.bench.recommend(10))
          latencies.push(m.ms)
          addLongTasks(longTasks, m.longTasks)
        }
        const plain = await page.evaluate(({ url, n }) => window.bench.plainScoring(url, 10, n), {
          url: agg.url,
          n: recommendRepeats,
        })
        recommend.push({
          backend,
          catalogue: items,
          latenciesMs: latencies,
          medianMs: median(latencies),
          p90Ms: quantile(latencies, 0.9),
          plainJsMedianMs: median(plain),
          longTasks,
        })
      } finally {
        await page.context().close()
      }
    }
  }
  return { recommend, startup }
}

function checkBackend(sample: SyncSample, backend: BackendName): void {
  if (sample.backend !== backend)
    throw new Error(`asked for the ${backend} backend, the library trained on ${sample.backend}`)
}

function medianPhases(samples: readonly SyncSample[]): SyncPhases | null {
  const all = samples.map((s) => s.phases).filter((p): p is SyncPhases => p !== null)
  if (all.length === 0) return null
  const first = all[0]!
  const keys = Object.keys(first) as (keyof SyncPhases)[]
  return Object.fromEntries(keys.map((k) => [k, median(all.map((p) => p[k]))])) as unknown as SyncPhases
}

export function addLongTasks(into: LongTasks, add: LongTasks): void {
  into.count += add.count
  into.totalMs += add.totalMs
  into.maxMs = Math.max(into.maxMs, add.maxMs)
}
