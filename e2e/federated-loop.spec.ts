import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { SyncReport } from '@fedrec/browser'
import { decodeUpdate, ITEM_BIAS, ITEM_EMBEDDING, parseStatus, type Status } from '@fedrec/protocol'
import { type BrowserContext, expect, type Page, type Request, test } from '@playwright/test'
import { type RunningAggregator, startAggregator } from './aggregator.ts'

interface Product {
  id: string
  name: string
  category: string
}

const cataloguePath = fileURLToPath(new URL('../apps/storefront/public/catalogue.json', import.meta.url))
const catalogue: Product[] = JSON.parse(readFileSync(cataloguePath, 'utf8'))
const categories = [...new Set(catalogue.map((p) => p.category))]
const ROUNDS = 4
/** Six shoppers, three tastes: two shoppers share each favourite category, so federation has something to share. */
const TASTES = [0, 1, 2, 0, 1, 2].map((i) => categories[i]!)

interface Shopper {
  name: string
  category: string
  context: BrowserContext
  page: Page
  requests: Request[]
  consoleErrors: string[]
  touched: Set<string>
  reports: SyncReport[]
}

let agg: RunningAggregator

test.afterEach(async () => {
  await agg?.stop()
})

async function status(): Promise<Status> {
  const res = await fetch(new URL('v1/status', agg.url))
  return parseStatus(await res.json())
}

/** Opens a product page the way a shopper does (a link), adds to cart when asked: all through the shop's UI. */
async function browse(s: Shopper, product: Product, addToCart: boolean): Promise<void> {
  await s.page.evaluate((id) => {
    location.hash = `#/product/${id}`
  }, product.id)
  await expect(s.page.getByRole('heading', { level: 1, name: product.name })).toBeVisible()
  s.touched.add(product.id)
  if (addToCart) await s.page.getByRole('button', { name: /add to cart/i }).click()
}

async function checkout(s: Shopper): Promise<void> {
  await s.page.evaluate(() => {
    location.hash = '#/cart'
  })
  await s.page.getByRole('button', { name: /buy now/i }).click()
}

async function sync(s: Shopper): Promise<SyncReport> {
  const report = await s.page.evaluate(() => window.fedrec.sync())
  s.reports.push(report)
  return report
}

async function topShare(s: Shopper): Promise<{ share: number; ids: string[] }> {
  const items = await s.page.evaluate(() => window.fedrec.recommend({ k: 10 }))
  const ids = items.map((i) => i.itemId)
  const inCategory = ids.filter((id) => catalogue.find((p) => p.id === id)?.category === s.category).length
  return { share: inCategory / Math.max(1, ids.length), ids }
}

test('shoppers with distinct tastes improve a shared model over rounds, and only updates leave the browser', async ({
  browser,
  baseURL,
}) => {
  agg = await startAggregator([
    '--min-clients',
    String(TASTES.length),
    '--round-deadline',
    '600',
    '--catalogue',
    cataloguePath,
    '--seed',
    '11',
  ])
  const storefront = new URL(baseURL!)
  const aggregator = new URL(agg.url)

  const shoppers: Shopper[] = []
  for (const [i, category] of TASTES.entries()) {
    const context = await browser.newContext()
    const requests: Request[] = []
    context.on('request', (r) => requests.push(r))
    const page = await context.newPage()
    const consoleErrors: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text())
    })
    page.on('pageerror', (e) => consoleErrors.push(e.message))
    await page.goto(`/?endpoint=${encodeURIComponent(agg.url)}&syncEvery=0&syncAfter=0`)
    await page.evaluate(() => window.fedrecReady)
    shoppers.push({
      name: `shopper ${i} (${category})`,
      category,
      context,
      page,
      requests,
      consoleErrors,
      touched: new Set(),
      reports: [],
    })
  }

  const before = await status()

  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(
      shoppers.map(async (s, i) => {
        const mine = catalogue.filter((p) => p.category === s.category)
        // Each round five new products of the favourite category, two of them bought; one stray click at first.
        const picks = [0, 1, 2, 3, 4].map((j) => mine[(round * 5 + j + i * 3) % mine.length]!)
        for (const [j, p] of picks.entries()) await browse(s, p, j < 2)
        await checkout(s)
        const stray = catalogue.filter((p) => p.category !== s.category)
        if (round === 0) await browse(s, stray[(i * 13) % stray.length]!, false)
      }),
    )
    const reports = await Promise.all(shoppers.map((s) => sync(s)))
    for (const r of reports) {
      expect(r.uploaded).toBe(true)
      expect(r.backend).toBe('webgl')
      expect(r.samples).toBeGreaterThan(0)
      expect(Number.isFinite(r.loss)).toBe(true)
      expect(r.round).toBe(before.round + round)
    }
    // Quorum reached: the round closed and the next model version is out.
    await expect.poll(async () => (await status()).modelVersion).toBe(before.modelVersion + round + 1)
  }

  const after = await status()
  expect(after.history.length).toBe(ROUNDS)
  for (const h of after.history) expect(h.participants).toBe(TASTES.length)

  // Recommendations moved toward each shopper's taste: one more sync fetches the newest model.
  await Promise.all(shoppers.map((s) => sync(s)))
  const random = 1 / categories.length
  const shares: number[] = []
  for (const s of shoppers) {
    const { share, ids } = await topShare(s)
    shares.push(share)
    expect(share, `${s.name}: top 10 ${ids.join(', ')}`).toBeGreaterThanOrEqual(0.6)
    expect(share).toBeGreaterThan(3 * random)
  }
  const reports = shoppers.flatMap((s) => s.reports)
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const summary = {
    modelBytes: after.modelBytes,
    syncMs: Math.round(mean(reports.map((r) => r.ms))),
    bytesUp: Math.round(mean(reports.map((r) => r.bytesUp))),
    bytesDown: Math.round(mean(reports.map((r) => r.bytesDown))),
    topShare: Number(mean(shares).toFixed(2)),
    randomShare: Number(random.toFixed(3)),
  }
  test.info().annotations.push({ type: 'measured', description: JSON.stringify(summary) })
  console.info(`federated loop: ${JSON.stringify(summary)}`)

  // Privacy: every request each page made, the worker's included, is a static asset or the update format.
  const allowed = new Set(['GET /v1/round', 'GET /v1/model', 'POST /v1/updates', 'OPTIONS /v1/updates'])
  let uploadsSeen = 0
  for (const s of shoppers) {
    const userVector = await s.page.evaluate(readUserVector)
    expect(userVector, `${s.name} has a trained user vector`).not.toBeNull()
    for (const req of s.requests) {
      const url = new URL(req.url())
      if (url.protocol === 'data:' || url.protocol === 'blob:') continue
      if (url.origin === storefront.origin) {
        expect(req.method(), `${s.name}: ${req.url()}`).toBe('GET')
        expect(req.postDataBuffer()).toBeNull()
        continue
      }
      expect(url.origin, `${s.name} talked to an unexpected origin: ${req.url()}`).toBe(aggregator.origin)
      expect(allowed.has(`${req.method()} ${url.pathname}`), `${req.method()} ${url.pathname}`).toBe(true)
      expect(url.search).toBe('')
      expect(await req.headerValue('cookie')).toBeNull()
      const body = req.postDataBuffer()
      if (req.method() !== 'POST') {
        expect(body).toBeNull()
        continue
      }
      uploadsSeen++
      const bytes = new Uint8Array(body!)
      const update = decodeUpdate(bytes) // throws unless it is exactly the update format
      expect(update.tensors.map((t) => t.name).sort()).toEqual([ITEM_BIAS, ITEM_EMBEDDING].sort())
      const text = Buffer.from(bytes).toString('latin1')
      for (const p of catalogue) expect(text.includes(p.id), `item id ${p.id} in an upload`).toBe(false)
      for (const word of ['click', 'add_to_cart', 'purchase', '"ts"', String(new Date().getUTCFullYear())]) {
        expect(text.includes(word), `${word} in an upload`).toBe(false)
      }
      expect(containsFloats(bytes, userVector!), `${s.name}'s user vector in an upload`).toBe(false)
    }
    expect(s.consoleErrors, `${s.name} console errors`).toEqual([])
  }
  // The interception saw the worker's uploads: exactly as many as the aggregator accepted.
  const end = await status()
  const accepted = end.history.reduce((n, h) => n + h.participants, 0) + end.participants
  expect(uploadsSeen).toBe(accepted)

  for (const s of shoppers) await s.context.close()
})

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

/** True when the float32 bytes of `vector` (any 8 consecutive components) appear in `bytes`. */
function containsFloats(bytes: Uint8Array, vector: number[]): boolean {
  const needle = new Uint8Array(Float32Array.from(vector.slice(0, 8)).buffer)
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}
