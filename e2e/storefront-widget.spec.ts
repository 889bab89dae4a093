// Proves the recommendation widget as shoppers of the demo shop meet it: every state, click tracking, privacy
// panel and accessibility, and degraded modes that still show something.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import AxeBuilder from '@axe-core/playwright'
import { parsePublicStatus } from '@fedrec/protocol'
import {
  type BrowserContext,
  chromium,
  expect,
  type Locator,
  type Page,
  type TestInfo,
  test,
} from '@playwright/test'
import { type RunningAggregator, startAggregator } from './aggregator.ts'
import { chromiumArgs, chromiumPath } from './chromium.ts'

// The demo shop's <fedrec-recommendations> widgets against a real aggregator, in real Chromium: the states a
// shopper sees (loading, cold start, personal, "because you viewed", degraded), click tracking marked as
// the widget's, the privacy panel, an axe-core check, and no console errors. Screenshots of each state are
// attached to the report; the assertions are on the rendered DOM, not on pixels.

interface Product {
  id: string
  name: string
  category: string
}

const cataloguePath = fileURLToPath(new URL('../apps/storefront/public/catalogue.json', import.meta.url))
const catalogue: Product[] = JSON.parse(readFileSync(cataloguePath, 'utf8'))
const inCategory = (category: string) => catalogue.filter((p) => p.category === category)
const categories = [...new Set(catalogue.map((p) => p.category))]
const POPULAR_CATEGORY = categories[0]!
const SHOPPER_CATEGORY = categories[1]!

let agg: RunningAggregator
const contexts: BrowserContext[] = []

test.afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close()
  await agg?.stop()
})

interface Shopper {
  page: Page
  problems: string[]
  warnings: string[]
}

async function open(context: BrowserContext, path = '#/', init?: () => void): Promise<Shopper> {
  contexts.push(context)
  if (init) await context.addInitScript(init)
  const page = await context.newPage()
  const problems: string[] = []
  const warnings: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text())
    if (m.type() === 'warning') warnings.push(m.text())
  })
  page.on('pageerror', (e) => problems.push(e.message))
  await page.goto(`/?endpoint=${encodeURIComponent(agg.url)}&syncEvery=0&syncAfter=0${path}`)
  return { page, problems, warnings }
}

async function modelVersion(): Promise<number> {
  const res = await fetch(new URL('v1/status', agg.url))
  return parsePublicStatus(await res.json()).modelVersion
}

async function shot(page: Page, testInfo: TestInfo, name: string, target?: Locator): Promise<void> {
  // Written to the test's output folder (kept after the run) and attached to the report.
  const path = testInfo.outputPath(`${name}.png`)
  await (target ?? page).screenshot({ path, animations: 'disabled' })
  await testInfo.attach(name, { path, contentType: 'image/png' })
}

const widget = (page: Page, heading?: RegExp) =>
  heading
    ? page.locator('fedrec-recommendations').filter({ has: page.getByRole('heading', { name: heading }) })
    : page.locator('fedrec-recommendations').first()

/** The item ids the widget shows, in order (its slotted light-DOM cards). */
const shownIds = (w: Locator) =>
  w.evaluate((el) =>
    [...el.querySelectorAll<HTMLElement>(':scope > [data-fedrec-item]')].map((n) => n.dataset.fedrecItem!),
  )

async function axe(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).include('fedrec-recommendations').analyze()
  await testInfo.attach(`axe-${name}.json`, {
    body: JSON.stringify(results.violations, null, 2),
    contentType: 'application/json',
  })
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  expect(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    `axe on ${name}`,
  ).toEqual([])
}

/** Runs in the page: the events stored in IndexedDB. */
async function storedEvents(): Promise<{ type: string; itemId: string; source?: string }[]> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open('fedrec')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  const rows = await new Promise<{ type: string; itemId: string; source?: string }[]>((resolve, reject) => {
    const req = db.transaction('events').objectStore('events').getAll()
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  db.close()
  return rows.map(({ type, itemId, source }) => (source ? { type, itemId, source } : { type, itemId }))
}

/** Other shoppers make some items popular: purchases of one category, one sync, one closed round. */
async function seedPopularity(context: BrowserContext): Promise<void> {
  const { page } = await open(context)
  const picks = inCategory(POPULAR_CATEGORY).slice(0, 6)
  await page.evaluate(
    async (ids) => {
      await window.fedrecReady
      for (const id of ids) {
        await window.fedrec.track({ type: 'click', itemId: id })
        await window.fedrec.track({ type: 'purchase', itemId: id })
      }
      await window.fedrec.sync()
    },
    picks.map((p) => p.id),
  )
  await expect.poll(modelVersion).toBeGreaterThanOrEqual(1)
  await page.close()
}

test('the shop’s widgets: skeleton, cold start, personal with "why this?", similar, cart, privacy panel', async ({
  browser,
}, testInfo) => {
  agg = await startAggregator(['--min-clients', '1', '--catalogue', cataloguePath, '--seed', '5'])

  // Version 0: nobody has trained anything, every bias is 0 — the widget says it has nothing yet.
  {
    const { page, problems } = await open(await browser.newContext())
    const w = widget(page)
    await expect(w).toHaveAttribute('state', 'empty')
    await expect(w.getByText(/Browse a few products/)).toBeVisible()
    await shot(page, testInfo, 'home-empty-model-v0', w)
    expect(problems).toEqual([])
  }

  await seedPopularity(await browser.newContext())

  const context = await browser.newContext()
  // Hold the model download back so the loading skeleton can be seen and checked.
  let release!: () => void
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  await context.route(`${agg.url}v1/model`, async (route) => {
    await held
    await route.continue()
  })
  const { page, problems } = await open(context)
  const home = widget(page)

  await expect(home).toHaveAttribute('state', 'loading')
  await expect(home.locator('[part~="skeleton"]').first()).toBeVisible()
  await shot(page, testInfo, 'home-loading', home)
  release()

  // Cold start: a new shopper gets what is popular in the global model, labelled as such.
  await expect(home).toHaveAttribute('state', 'popular')
  await expect(home.locator('[part~="badge"]')).toHaveText('Popular')
  const popularIds = await shownIds(home)
  expect(popularIds.length).toBeGreaterThanOrEqual(6)
  const popularCategory = new Set(inCategory(POPULAR_CATEGORY).map((p) => p.id))
  expect(
    popularIds.slice(0, 6).every((id) => popularCategory.has(id)),
    popularIds.join(', '),
  ).toBe(true)
  // The cards are the shop's own product cards, with names from its catalogue.
  const first = catalogue.find((p) => p.id === popularIds[0])!
  await expect(
    home.locator('[data-fedrec-item]').first().getByRole('heading', { name: first.name }),
  ).toBeVisible()
  await shot(page, testInfo, 'home-cold-start', home)
  await axe(page, testInfo, 'home-cold-start')

  // The shopper browses their own category through the shop and adds two to the cart, then a round runs.
  const mine = inCategory(SHOPPER_CATEGORY).slice(0, 5)
  for (const [i, p] of mine.entries()) {
    await page.evaluate((id) => {
      location.hash = `#/product/${id}`
    }, p.id)
    await expect(page.getByRole('heading', { level: 1, name: p.name })).toBeVisible()
    if (i < 2)
      await page
        .getByRole('button', { name: /add to cart/i })
        .first()
        .click()
  }
  const report = await page.evaluate(() => window.fedrec.sync())
  expect(report.uploaded).toBe(true)

  // Product page: "Because you viewed …", ranked by closeness in the (now trained) shared model.
  const last = mine[mine.length - 1]!
  const similar = widget(page, new RegExp(`Because you viewed ${escapeRegExp(last.name)}`))
  await expect(similar).toHaveAttribute('state', 'similar')
  expect(await shownIds(similar)).not.toContain(last.id)
  await shot(page, testInfo, 'product-because-you-viewed', similar)
  await axe(page, testInfo, 'product')

  // Home: personal now, each item with a reason naming one of the shopper's own products.
  await page.evaluate(() => {
    location.hash = '#/'
  })
  const forYou = widget(page, /Recommended for you/)
  await expect(forYou).toHaveAttribute('state', 'personal')
  await expect(forYou.locator('[part~="badge"]')).toHaveText('For you')
  const why = forYou.getByRole('button', { name: /^Why this\? .+$/ }).first()
  await why.click()
  await expect(why).toHaveAttribute('aria-expanded', 'true')
  const reason = forYou.locator('[part~="why"]:visible').first()
  const names = mine.map((p) => escapeRegExp(p.name)).join('|')
  await expect(reason).toHaveText(new RegExp(`Because you looked at (${names}):`))
  await shot(page, testInfo, 'home-personal-why-this', forYou)

  // A click on a recommendation is recorded once, marked as the widget's.
  const personalIds = await shownIds(forYou)
  const picked = catalogue.find((p) => p.id === personalIds[1])!
  const before = (await page.evaluate(storedEvents)).length
  await forYou.locator(`[data-fedrec-item="${picked.id}"] a`).first().click()
  await expect(page.getByRole('heading', { level: 1, name: picked.name })).toBeVisible()
  await expect
    .poll(async () => (await page.evaluate(storedEvents)).slice(before))
    .toEqual([{ type: 'click', itemId: picked.id, source: 'fedrec-widget' }])

  // Cart: "You might also like", without what is already in the cart.
  await page.evaluate(() => {
    location.hash = '#/cart'
  })
  const alsoLike = widget(page, /You might also like/)
  await expect(alsoLike).toHaveAttribute('state', /personal|popular/)
  const cartIds = mine.slice(0, 2).map((p) => p.id)
  await expect.poll(async () => (await shownIds(alsoLike)).filter((id) => cartIds.includes(id))).toEqual([])
  await shot(page, testInfo, 'cart-you-might-also-like', alsoLike)

  // The privacy panel: counts of what is stored here, pause, erase, and what leaves.
  await page.evaluate(() => {
    location.hash = '#/'
  })
  const panelButton = forYou.getByRole('button', { name: 'Your data' })
  await panelButton.click()
  await expect(panelButton).toHaveAttribute('aria-expanded', 'true')
  const panel = forYou.getByRole('region', { name: /Your data/ })
  const events = (await page.evaluate(storedEvents)).length
  await expect(panel).toContainText(`${events} interactions with`)
  await expect(panel).toContainText('A taste profile trained on this device')
  await expect(panel).toContainText('What leaves this device')
  await shot(page, testInfo, 'home-privacy-panel', forYou)
  await axe(page, testInfo, 'privacy-panel')
  await panel.getByRole('button', { name: 'Pause learning' }).click()
  await expect(panel.getByRole('button', { name: 'Pause learning' })).toHaveAttribute('aria-pressed', 'true')
  // The shop's footer follows the switch the widget flipped.
  await expect(page.getByRole('status').filter({ hasText: /Learning paused by you/ })).toBeVisible()
  await panel.getByRole('button', { name: 'Erase everything' }).click()
  await panel.getByRole('button', { name: 'Yes, erase everything' }).click()
  await expect(panel).toContainText('0 interactions with 0 products')
  expect(await page.evaluate(storedEvents)).toEqual([])

  expect(problems).toEqual([])
})

test('degraded mode: without Web Workers the shop still shows popular items, warns once, throws nothing', async ({
  browser,
}, testInfo) => {
  agg = await startAggregator(['--min-clients', '1', '--catalogue', cataloguePath, '--seed', '5'])
  await seedPopularity(await browser.newContext())

  const { page, problems, warnings } = await open(await browser.newContext(), '#/', () => {
    Object.defineProperty(window, 'Worker', { value: undefined, configurable: true })
  })
  const w = widget(page)
  await expect(w).toHaveAttribute('state', 'degraded')
  const ids = await shownIds(w)
  expect(ids.length).toBeGreaterThan(0)
  const popularCategory = new Set(inCategory(POPULAR_CATEGORY).map((p) => p.id))
  expect(popularCategory.has(ids[0]!)).toBe(true)
  await expect(w.locator('[part~="badge"]')).toHaveText('Popular')
  expect(warnings.some((m) => m.includes('degraded mode'))).toBe(true)
  await w.getByRole('button', { name: 'Your data' }).click()
  await expect(w.getByRole('region', { name: /Your data/ })).toContainText('Learning is not available')
  await shot(page, testInfo, 'home-degraded', w)
  await axe(page, testInfo, 'degraded')
  expect(problems).toEqual([])
})

test('degraded mode: no tfjs backend works; "because you viewed" falls back to popular, and a followed item is still recorded', async ({
  browser,
  baseURL,
}) => {
  agg = await startAggregator(['--min-clients', '1', '--catalogue', cataloguePath, '--seed', '5'])
  await seedPopularity(await browser.newContext())
  // No GPU and no software rasteriser, so no WebGL at all; and the shop is told to use WebGL only. Similar
  // items need tfjs scoring (popular ones for a new shopper do not), so the product page's widget degrades.
  const noGpu = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      ...chromiumArgs.filter((a) => a !== '--enable-unsafe-swiftshader'),
      '--disable-gpu',
      '--disable-software-rasterizer',
    ],
  })
  try {
    const viewed = inCategory(SHOPPER_CATEGORY)[0]!
    const context = await noGpu.newContext({ baseURL: baseURL! })
    const { page, problems, warnings } = await open(context, `&backends=webgl#/product/${viewed.id}`)
    await expect(page.getByRole('heading', { level: 1, name: viewed.name })).toBeVisible()
    const w = page.locator('fedrec-recommendations[mode="similar"]')
    await expect(w).toHaveAttribute('state', 'degraded')
    await expect(w.getByRole('heading', { name: 'Popular right now' })).toBeVisible()
    expect(warnings.some((m) => m.includes('no tfjs backend'))).toBe(true)
    await expect.poll(() => page.evaluate(storedEvents)).toEqual([{ type: 'click', itemId: viewed.id }])

    const ids = await shownIds(w)
    const picked = catalogue.find((p) => p.id === ids[0])!
    await w.locator(`[data-fedrec-item="${picked.id}"] a`).first().click()
    await expect(page.getByRole('heading', { level: 1, name: picked.name })).toBeVisible()
    // The widget records nothing in degraded mode, so the product page's own view is the one record.
    await expect
      .poll(async () => (await page.evaluate(storedEvents)).slice(1))
      .toEqual([{ type: 'click', itemId: picked.id }])
    expect(problems).toEqual([])
  } finally {
    for (const c of contexts.splice(0)) await c.close()
    await noGpu.close()
  }
})

test('the page’s main-thread script stays small (tfjs only in the worker)', async ({ page }) => {
  const scripts: string[] = []
  page.on('request', (r) => {
    if (r.resourceType() === 'script') scripts.push(r.url())
  })
  const workers: string[] = []
  page.on('worker', (wk) => workers.push(wk.url()))
  await page.goto('/?endpoint=http://127.0.0.1:9/&syncEvery=0&syncAfter=0')
  await page.evaluate(() => window.fedrecReady)
  await expect(page.locator('fedrec-recommendations')).toHaveCount(1)
  let raw = 0
  let gzipped = 0
  for (const url of scripts.filter((u) => !workers.includes(u))) {
    const body = await (await page.request.get(url)).body()
    raw += body.byteLength
    gzipped += gzipSync(body, { level: 9 }).byteLength
  }
  console.info(`storefront main-thread script with the widget: ${raw} bytes, ${gzipped} bytes gzipped`)
  test.info().annotations.push({ type: 'measured', description: JSON.stringify({ raw, gzipped }) })
  expect(raw).toBeGreaterThan(0)
})

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
