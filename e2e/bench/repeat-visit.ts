// Figure 8 of the benchmark (docs/benchmarks.md): a repeat page view of the demo shop. The widget shows the
// shopper's last personal list from IndexedDB before the worker and tfjs have started; the baseline in the
// same run is when the recommender's own list arrives on the same page view (what the shopper waited for
// before). Prints nothing itself: scripts/bench.ts prints the table.
import { spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright'
import { serveStatic } from '../adopters/static-server.ts'
import { startAggregator } from '../aggregator.ts'
import { chromiumArgs, chromiumPath } from '../chromium.ts'
import { loadStorefrontCatalogue, storefrontCataloguePath } from '../kit/catalogue.ts'
import { median } from './fixtures.ts'

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..')

/** One repeat page view, times in ms after DOMContentLoaded. */
export interface RepeatVisit {
  /** The saved personal list on screen (state `personal` the first time). */
  lastListMs: number
  /** The recommender's fresh list on screen (the second `personal`). */
  freshListMs: number
  /** Long tasks (> 50 ms) on the main thread from navigation until the fresh list. */
  longTasks: number
  longestTaskMs: number
}

export interface RepeatVisitResult {
  visits: RepeatVisit[]
  median: { lastListMs: number; freshListMs: number }
  longTasks: number
}

/** Runs in the page before its scripts: when the widget's states arrive, and the long tasks. */
function instrument(): void {
  const marks = { states: [] as { state: string; at: number }[], longTasks: [] as number[] }
  Object.assign(window, { __repeatVisit: marks })
  document.addEventListener('fedrec-state', (e) => {
    const detail = (e as CustomEvent<{ state: string }>).detail
    marks.states.push({ state: detail.state, at: performance.now() })
  })
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) marks.longTasks.push(entry.duration)
  }).observe({ type: 'longtask', buffered: true })
}

/**
 * Builds the demo shop, trains one shopper's profile (a few products, one sync), then reloads the home
 * page `visits` times and times the for-you widget on each.
 * @example const result = await runRepeatVisitBench({ visits: 5, log: console.error })
 */
export async function runRepeatVisitBench(options: {
  visits: number
  log: (line: string) => void
}): Promise<RepeatVisitResult> {
  options.log('repeat visit: building the demo shop')
  const built = spawnSync('npm', ['run', 'build', '-w', '@fedrec/storefront'], {
    cwd: root,
    encoding: 'utf8',
  })
  if (built.status !== 0) throw new Error(`the storefront build failed:\n${built.stdout}${built.stderr}`)
  const site = await serveStatic(join(root, 'apps/storefront/dist'))
  const agg = await startAggregator([
    '--catalogue',
    storefrontCataloguePath,
    '--min-clients',
    '1',
    '--seed',
    '5',
  ])
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs })
  try {
    const context = await browser.newContext()
    await context.addInitScript(instrument)
    const page = await context.newPage()
    const home = `${site.url}?endpoint=${encodeURIComponent(agg.url)}&syncEvery=0&syncAfter=0#/`
    await page.goto(home)
    const products = loadStorefrontCatalogue().slice(0, 5)
    await page.evaluate(
      async (ids) => {
        await window.fedrecReady
        for (const itemId of ids) await window.fedrec.track({ type: 'click', itemId })
        await window.fedrec.sync()
      },
      products.map((p) => p.id),
    )
    // The first page view with a profile: the list the next views will show first.
    await page.reload()
    await page.waitForFunction(
      () => document.querySelector('fedrec-recommendations')?.getAttribute('state') === 'personal',
    )
    const visits: RepeatVisit[] = []
    for (let i = 0; i < options.visits; i++) {
      await page.reload()
      const marks = await page.waitForFunction(
        () => {
          const m = (window as unknown as { __repeatVisit: { states: { state: string; at: number }[] } })
            .__repeatVisit
          return m.states.filter((s) => s.state === 'personal').length >= 2 ? m : null
        },
        undefined,
        { timeout: 60_000 },
      )
      const { states, longTasks, dcl } = await marks.evaluate((m) => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming
        const marks = m as { states: { state: string; at: number }[]; longTasks: number[] }
        return { ...marks, dcl: nav.domContentLoadedEventStart }
      })
      const personal = states.filter((s) => s.state === 'personal')
      visits.push({
        lastListMs: personal[0]!.at - dcl,
        freshListMs: personal[1]!.at - dcl,
        longTasks: longTasks.length,
        longestTaskMs: Math.max(0, ...longTasks),
      })
      options.log(
        `repeat visit ${i + 1}: last list at ${visits.at(-1)!.lastListMs.toFixed(0)} ms, fresh at ${visits.at(-1)!.freshListMs.toFixed(0)} ms after DOMContentLoaded`,
      )
    }
    return {
      visits,
      median: {
        lastListMs: median(visits.map((v) => v.lastListMs)),
        freshListMs: median(visits.map((v) => v.freshListMs)),
      },
      longTasks: visits.reduce((n, v) => n + v.longTasks, 0),
    }
  } finally {
    await browser.close()
    await agg.stop()
    await site.close()
  }
}
