// Proves the demo shop's personalised search and promotions: the shop's own matches, reordered on the device
// by the shopper's model (`rerank()`), with nothing sent while it reorders.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parsePublicStatus } from '@fedrec/protocol'
import { type BrowserContext, expect, type Locator, type Page, type TestInfo, test } from '@playwright/test'
import { type RunningAggregator, startAggregator } from './aggregator.ts'

// One shopper of the demo shop against a real aggregator, in real Chromium. The search "small" matches
// Outdoor, Toys, Beauty and Garden products, in that order in the shop's own results; the shopper looks at
// Garden products (among them the two the shop features, see apps/storefront/src/views/featured.ts), two
// rounds run, and the same search puts Garden first, as does the "Featured picks" slot.

interface Product {
  id: string
  name: string
  category: string
  description: string
}

const cataloguePath = fileURLToPath(new URL('../apps/storefront/public/catalogue.json', import.meta.url))
const catalogue: Product[] = JSON.parse(readFileSync(cataloguePath, 'utf8'))
const QUERY = 'small'
const SHOPPER_CATEGORY = 'Garden'
const garden = catalogue.filter((p) => p.category === SHOPPER_CATEGORY)
const gardenMatches = garden.filter((p) => `${p.name} ${p.description}`.toLowerCase().includes(QUERY))
/** The two featured Garden products (the first two of the department) and four that match the search (one is both). */
const looked = [...new Set([...garden.slice(0, 2), ...gardenMatches.slice(0, 4)])]

let agg: RunningAggregator
let context: BrowserContext | undefined

test.afterEach(async () => {
  await context?.close()
  await agg?.stop()
})

async function modelVersion(): Promise<number> {
  const res = await fetch(new URL('v1/status', agg.url))
  return parsePublicStatus(await res.json()).modelVersion
}

/** The categories of the cards in a list, in order, as the shopper reads them. */
const categories = (list: Locator) => list.locator('.card-category').allTextContents()
const ids = (list: Locator) =>
  list
    .locator('[data-product-id]')
    .evaluateAll((cards) => cards.map((c) => (c as HTMLElement).dataset.productId))

/** A screenshot in the test's output folder, attached to the report (the assertions are on the DOM). */
async function shot(target: Locator, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`)
  await target.screenshot({ path, animations: 'disabled' })
  await testInfo.attach(name, { path, contentType: 'image/png' })
}

async function search(page: Page, query: string): Promise<Locator> {
  const box = page.getByRole('searchbox', { name: 'Search the shop' })
  await box.fill(query)
  await box.press('Enter')
  await expect(page.getByRole('heading', { level: 1, name: `Results for “${query}”` })).toBeVisible()
  return page.locator('.search-results')
}

test('search results and featured picks follow the shopper’s category, reordered on the device', async ({
  browser,
}, testInfo) => {
  expect(looked.length).toBe(5)
  agg = await startAggregator(['--min-clients', '1', '--catalogue', cataloguePath, '--seed', '7'])
  context = await browser.newContext()
  const requests: { method: string; url: string; body: string | null }[] = []
  // The context hears the page's and its worker's requests alike.
  context.on('request', (r) => requests.push({ method: r.method(), url: r.url(), body: r.postData() }))
  const page = await context.newPage()
  const problems: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text())
  })
  page.on('pageerror', (e) => problems.push(e.message))
  await page.goto(`/?endpoint=${encodeURIComponent(agg.url)}&syncEvery=0&syncAfter=0#/`)
  await page.evaluate(() => window.fedrecReady)

  // A new shopper and a model nobody trained (version 0): the shop's own orders, said as such.
  const promos = page.locator('section.promotions')
  await expect(promos).toHaveAttribute('data-order', 'none')
  await expect(promos).toContainText('in our usual order')
  expect((await categories(promos))[0]).not.toBe(SHOPPER_CATEGORY)
  const plain = await search(page, QUERY)
  await expect(plain).toHaveAttribute('data-order', 'none')
  await expect(plain.getByText('Best matches first, in our usual order')).toBeVisible()
  const shopOrder = await categories(plain)
  await shot(page.locator('header'), testInfo, 'header-search')
  expect(shopOrder.slice(0, 4).filter((c) => c === SHOPPER_CATEGORY)).toEqual([])
  expect(shopOrder).toContain(SHOPPER_CATEGORY)

  // The shopper looks at Garden products, then two rounds run: the first trains on version 0 and closes
  // the round; the second brings that version (with this shopper's part in it) to the device.
  for (const p of looked) {
    await page.evaluate((id) => {
      location.hash = `#/product/${id}`
    }, p.id)
    await expect(page.getByRole('heading', { level: 1, name: p.name })).toBeVisible()
  }
  await page.evaluate(() => window.fedrec.sync())
  await expect.poll(modelVersion).toBeGreaterThanOrEqual(1)
  const report = await page.evaluate(() => window.fedrec.sync())
  expect(report.modelVersion).toBeGreaterThanOrEqual(1)

  // The same search: the shopper's category first, ordered on this device with nothing sent.
  const before = requests.length
  const results = await search(page, QUERY)
  await expect(results).toHaveAttribute('data-order', 'personal')
  await expect(results.getByText('Sorted for you')).toBeVisible()
  const personal = await categories(results)
  expect(personal.slice(0, 4), personal.join(', ')).toEqual(Array(4).fill(SHOPPER_CATEGORY))
  expect(personal.length).toBe(shopOrder.length)
  // Nothing to the aggregator and nothing with a body; the browser may still fetch the shop's favicon.
  const sent = requests.slice(before).filter((r) => r.url.startsWith(agg.url) || r.body !== null)
  expect(sent).toEqual([])
  await shot(page.locator('main'), testInfo, 'search-personal')

  // Featured picks on the home page: the two featured Garden products the shopper looked at lead.
  await page.getByRole('link', { name: 'Bramble, home' }).click()
  await expect(promos).toHaveAttribute('data-order', 'personal')
  await expect(promos).toContainText('Picked for you from our featured products')
  await shot(promos, testInfo, 'featured-picks-personal')
  expect((await ids(promos)).slice(0, 2).sort()).toEqual(
    garden
      .slice(0, 2)
      .map((p) => p.id)
      .sort(),
  )

  // Learning paused: the shop's own order again, and the note says why.
  await page.evaluate(() => window.fedrec.setPaused(true))
  await expect(promos).toHaveAttribute('data-order', 'paused')
  const paused = await search(page, QUERY)
  await expect(paused).toHaveAttribute('data-order', 'paused')
  await expect(paused.getByText('learning is paused, so nothing is personalised')).toBeVisible()
  expect(await categories(paused)).toEqual(shopOrder)
  expect(problems).toEqual([])
})
