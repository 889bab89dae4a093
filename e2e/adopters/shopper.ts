// The check every adopter test ends with, whatever the app's build tool: a shopper in the built app gets
// personal recommendations.
import type { Recommender, SuggestionSet, SyncReport } from '@fedrec/browser'
import { parsePublicStatus } from '@fedrec/protocol'
import { expect, type Page } from '@playwright/test'
import { loadStorefrontCatalogue, storefrontCataloguePath } from '../kit/catalogue.ts'
import type { PackedAggregator } from './packed-aggregator.ts'

declare global {
  interface Window {
    /** What each adopter app exposes: the recommender it created (and gave its widget). */
    shop: Promise<Recommender>
  }
}

/** The aggregator flags of every adopter test: the demo shop's catalogue, rounds that close on one update. */
export const AGGREGATOR_ARGS = ['--catalogue', storefrontCataloguePath, '--min-clients', '1', '--seed', '5']

/**
 * One shopper in an adopter's app: the page loads the library (and its worker and the tfjs WebAssembly,
 * from wherever the app's build put them), the shopper clicks and buys in one category, `sync()` trains on
 * the device and uploads, and both the API and the app's `<fedrec-recommendations>` then show personal
 * recommendations without what was bought. Fails on any console error or failed request of the page.
 * @example await shopperGetsPersonalRecommendations(page, `${site.url}?endpoint=${agg.url}&backend=wasm`, agg)
 */
export async function shopperGetsPersonalRecommendations(
  page: Page,
  pageUrl: string,
  agg: PackedAggregator,
): Promise<{ report: SyncReport; requested: string[] }> {
  const problems: string[] = []
  const requested: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`))
  page.on('response', (r) => {
    requested.push(r.url())
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`)
  })
  await page.goto(pageUrl)
  const widget = page.locator('fedrec-recommendations')
  // A model nobody has trained yet has no popularity to show: the element says so instead of inventing one.
  await expect(widget).toHaveAttribute('state', 'empty')

  const products = loadStorefrontCatalogue()
  const category = products[0]!.category
  const mine = products.filter((p) => p.category === category).slice(0, 5)
  const bought = mine.slice(0, 2).map((p) => p.id)
  const { report, suggestion } = await page.evaluate(
    async ({ clicked, bought }) => {
      const rec = await window.shop
      for (const itemId of clicked) await rec.track({ type: 'click', itemId })
      for (const itemId of bought) await rec.track({ type: 'purchase', itemId })
      const report = await rec.sync()
      const suggestion: SuggestionSet = await rec.suggest({ mode: 'for-you', k: 5 })
      await document.querySelector('fedrec-recommendations')!.refresh()
      return { report, suggestion }
    },
    { clicked: mine.map((p) => p.id), bought },
  )
  expect(report.uploaded).toBe(true)
  expect(report.samples).toBeGreaterThan(0)
  expect(suggestion.kind).toBe('personal')
  expect(suggestion.items).toHaveLength(5)
  for (const id of bought) expect(suggestion.items.map((i) => i.itemId)).not.toContain(id)

  await expect(widget).toHaveAttribute('state', 'personal')
  const shown = await widget.evaluate((el) =>
    [...el.querySelectorAll<HTMLElement>(':scope > [data-fedrec-item]')].map((n) => n.dataset.fedrecItem!),
  )
  expect(shown).toHaveLength(5)
  for (const id of bought) expect(shown).not.toContain(id)

  // The aggregator counted the upload: the round closed on it and published the next model version.
  const status = parsePublicStatus(await (await fetch(new URL('v1/status', agg.url))).json())
  expect(status.modelVersion).toBeGreaterThanOrEqual(1)
  expect(problems).toEqual([])
  return { report, requested }
}
