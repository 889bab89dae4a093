import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium, expect, type Page, test } from '@playwright/test'
import { type RunningAggregator, startAggregator } from './aggregator.ts'
import { chromiumArgs, chromiumPath } from './chromium.ts'

const cataloguePath = fileURLToPath(new URL('../apps/storefront/public/catalogue.json', import.meta.url))
const catalogue: { id: string; category: string }[] = JSON.parse(readFileSync(cataloguePath, 'utf8'))

let agg: RunningAggregator
test.beforeAll(async () => {
  // Quorum of one: every upload closes a round, so each sync below is a fresh round.
  agg = await startAggregator(['--min-clients', '1', '--catalogue', cataloguePath, '--seed', '5'])
})
test.afterAll(async () => {
  await agg?.stop()
})

/** A shopper with `events` interactions in one category, tracked through the public API. */
async function openShopper(page: Page, query: string, events: number): Promise<void> {
  await page.goto(`/?endpoint=${encodeURIComponent(agg.url)}&syncEvery=0&syncAfter=0${query}`)
  await page.evaluate(() => window.fedrecReady)
  const items = catalogue.filter((p) => p.category === catalogue[0]!.category).map((p) => p.id)
  await page.evaluate(
    async ({ items, events }) => {
      const types = ['click', 'click', 'click', 'add_to_cart', 'purchase'] as const
      for (let i = 0; i < events; i++) {
        await window.fedrec.track({ type: types[i % types.length]!, itemId: items[(i * 7) % items.length]! })
      }
    },
    { items, events },
  )
}

async function twoSyncs(page: Page) {
  const first = await page.evaluate(() => window.fedrec.sync())
  const second = await page.evaluate(() => window.fedrec.sync())
  return { first, second }
}

for (const backend of ['webgl', 'wasm', 'cpu'] as const) {
  test(`a shopper trains and uploads on the ${backend} backend`, async ({ page }) => {
    await openShopper(page, `&backends=${backend}`, 50)
    const { first, second } = await twoSyncs(page)
    for (const report of [first, second]) {
      expect(report.backend).toBe(backend)
      expect(report.uploaded).toBe(true)
      expect(report.samples).toBeGreaterThan(0)
      expect(Number.isFinite(report.loss)).toBe(true)
    }
    expect(second.round).toBe(first.round + 1)
    const items = await page.evaluate(() => window.fedrec.recommend({ k: 10 }))
    expect(items).toHaveLength(10)
    const measured = {
      backend,
      firstSyncMs: Math.round(first.ms),
      warmSyncMs: Math.round(second.ms),
      samples: second.samples,
    }
    test.info().annotations.push({ type: 'measured', description: JSON.stringify(measured) })
    console.info(`sync on ${backend}: ${JSON.stringify(measured)}`)
  })
}

test('without WebGL the worker falls back to WASM and still completes the round', async ({ baseURL }) => {
  let browser: Browser | undefined
  try {
    // No GPU and no software rasteriser: OffscreenCanvas has no WebGL context at all in this browser.
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        ...chromiumArgs.filter((a) => a !== '--enable-unsafe-swiftshader'),
        '--disable-gpu',
        '--disable-software-rasterizer',
      ],
    })
    const page = await browser.newPage({ baseURL: baseURL! })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await openShopper(page, '', 20)
    expect(await page.evaluate(() => window.fedrec.backend())).toBe('wasm')
    const report = await page.evaluate(() => window.fedrec.sync())
    expect(report.backend).toBe('wasm')
    expect(report.uploaded).toBe(true)
    expect(errors).toEqual([])
  } finally {
    await browser?.close()
  }
})
