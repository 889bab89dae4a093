// The whole product in one test: shoppers browsing the real storefront improve a shared model, and
// nothing but updates leaves their browsers.
import { categoriesOf, type Product } from './kit/catalogue.ts'
import { expect, expectOnlyProtocolTraffic, type Shopper, test } from './kit/index.ts'

const ROUNDS = 4
/** Six shoppers, three tastes: two shoppers share each favourite category, so federation has something to share. */
const TASTES = [0, 1, 2, 0, 1, 2]

/** Opens a product page the way a shopper does (a link), adds to cart when asked: all through the shop's UI. */
async function browse(s: Shopper, product: Product, addToCart: boolean): Promise<void> {
  await s.page.evaluate((id) => {
    location.hash = `#/product/${id}`
  }, product.id)
  await expect(s.page.getByRole('heading', { level: 1, name: product.name })).toBeVisible()
  if (addToCart) await s.page.getByRole('button', { name: /add to cart/i }).click()
}

async function checkout(s: Shopper): Promise<void> {
  await s.page.evaluate(() => {
    location.hash = '#/cart'
  })
  await s.page.getByRole('button', { name: /buy now/i }).click()
}

test('shoppers with distinct tastes improve a shared model over rounds, and only updates leave the browser', async ({
  qa,
  baseURL,
}) => {
  // Six browsers train four rounds on software WebGL: 2.5 min on a quiet 2-core machine, over 5 min beside a
  // parallel `npm test`. The limit only guards against a hang; every wait inside polls for a state.
  test.setTimeout(15 * 60_000)
  const products = qa.products
  const categories = categoriesOf(products)
  const recorder = qa.recorder('federated-loop')
  const agg = await qa.aggregator({ minClients: TASTES.length, seed: 11 })
  const shoppers: Shopper[] = []
  for (const [i, t] of TASTES.entries()) {
    const category = categories[t]!
    const mine = products.filter((p) => p.category === category)
    // Browsing below covers 20 consecutive products of the category from i * 3; this one stays unseen.
    const heldOut = mine[(i * 3 + 25) % mine.length]!.id
    shoppers.push(
      await qa.shopper(agg, { name: `shopper ${i} (${category})`, taste: category, events: [], heldOut }),
    )
  }
  const before = await agg.status()

  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(
      shoppers.map(async (s, i) => {
        const mine = products.filter((p) => p.category === s.profile.taste)
        // Each round five new products of the favourite category, two of them bought; one stray click at first.
        const picks = [0, 1, 2, 3, 4].map((j) => mine[(round * 5 + j + i * 3) % mine.length]!)
        for (const [j, p] of picks.entries()) await browse(s, p, j < 2)
        await checkout(s)
        const stray = products.filter((p) => p.category !== s.profile.taste)
        if (round === 0) await browse(s, stray[(i * 13) % stray.length]!, false)
      }),
    )
    const record = await qa.round(agg, shoppers)
    for (const r of record.shoppers) {
      expect(r.error).toBeUndefined()
      expect(r.uploaded).toBe(true)
      expect(r.backend).toBe('webgl')
      expect(r.samples).toBeGreaterThan(0)
      expect(r.loss).not.toBeNull()
      expect(r.round).toBe(before.round + round)
    }
    // Quorum reached: the round closed and the next model version is out.
    expect(record.closedBy).toBe('quorum')
    expect(record.participants).toBe(TASTES.length)
    expect(record.publishedVersion).toBe(before.modelVersion + round + 1)
  }

  const after = await agg.status()
  expect(after.history.length).toBe(ROUNDS)
  for (const h of after.history) expect(h.participants).toBe(TASTES.length)

  // Recommendations moved toward each shopper's taste: one more sync fetches the newest model.
  await Promise.all(shoppers.map((s) => s.sync()))
  const random = 1 / categories.length
  const shares: number[] = []
  const lists: string[] = []
  for (const s of shoppers) {
    const ids = (await s.recommend(10)).map((r) => r.itemId)
    const share =
      ids.filter((id) => products.find((p) => p.id === id)?.category === s.profile.taste).length / 10
    shares.push(share)
    lists.push(`${s.name}: ${share} — ${ids.join(', ')}`)
  }
  const reports = shoppers.flatMap((s) => s.reports)
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  // Most of each list is the shopper's category: ≥ 0.6 on average (4.8× chance), and for at least four of the
  // six shoppers. Not for every shopper: the state weighs the newest items most (recency 0.7, best on the
  // shop data sets), and a shopper whose newest items nobody else has touched yet gets a weak list (in Node,
  // 40 runs of this loop: mean 0.81, the run mean never below 0.70, 8 % of shoppers below 0.6, the worst
  // 0.2; in Chromium one shopper of six has been seen at 0. docs/simulator.md, "What was tried" 11–12).
  expect(shares.filter((x) => x >= 0.6).length, lists.join('\n')).toBeGreaterThanOrEqual(4)
  expect(mean(shares), lists.join('\n')).toBeGreaterThanOrEqual(0.6)
  const summary = {
    modelBytes: after.modelBytes,
    syncMs: Math.round(mean(reports.map((r) => r.ms))),
    bytesUp: Math.round(mean(reports.map((r) => r.bytesUp))),
    bytesDown: Math.round(mean(reports.map((r) => r.bytesDown))),
    topShare: Number(mean(shares).toFixed(2)),
    randomShare: Number(random.toFixed(3)),
    hr10ByRound: recorder.summary.rounds.map((r) => r.hr10),
  }
  recorder.measure('loop', summary)
  test.info().annotations.push({ type: 'measured', description: JSON.stringify(summary) })
  console.info(`federated loop: ${JSON.stringify(summary)}`)

  // Privacy: every request each page made, the worker's included, is a static asset or the update format.
  let uploadsSeen = 0
  for (const s of shoppers) {
    uploadsSeen += await expectOnlyProtocolTraffic(s, {
      shop: baseURL!,
      aggregator: agg.url,
      itemIds: products.map((p) => p.id),
    })
    expect(s.errors, `${s.name} console errors`).toEqual([])
  }
  // The interception saw the worker's uploads: exactly as many as the aggregator accepted.
  const end = await agg.status()
  const accepted = end.history.reduce((n, h) => n + h.participants, 0) + end.participants
  expect(uploadsSeen).toBe(accepted)
})
