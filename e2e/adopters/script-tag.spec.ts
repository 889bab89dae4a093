// Proves a shop with no build step adopts fedrec by one script tag: the packed library, served by the
// aggregator or copied to the shop, personalises in real Chromium.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { removeScratch, root, scratch, tarballs } from './packed.ts'
import { type PackedAggregator, startPackedAggregator } from './packed-aggregator.ts'
import { AGGREGATOR_ARGS, shopperGetsPersonalRecommendations } from './shopper.ts'
import { serveStatic } from './static-server.ts'

// A shop without any build step: one <script type="module"> from the aggregator (which serves the packed
// @fedrec/browser it was installed with under /fedrec/) and the element, on a page of another origin.

let agg: PackedAggregator | undefined
test.afterEach(async () => {
  await agg?.stop()
  agg = undefined
  removeScratch()
})

test('a plain HTML page with the aggregator’s script tag: a shopper gets personal recommendations', async ({
  page,
}) => {
  const dir = scratch('script-tag')
  const site = await serveStatic(dir)
  try {
    agg = await startPackedAggregator([...AGGREGATOR_ARGS, '--cors-origin', new URL(site.url).origin])
    const template = readFileSync(join(root, 'e2e/adopters/fixtures/script-tag/index.html'), 'utf8')
    writeFileSync(join(dir, 'index.html'), template.replaceAll('AGGREGATOR', agg.url.replace(/\/$/, '')))

    const { report, requested } = await shopperGetsPersonalRecommendations(
      page,
      `${site.url}?backend=wasm`,
      agg,
    )
    expect(report.backend).toBe('wasm')
    // The library, its worker and the tfjs WebAssembly all came from the aggregator, across origins.
    const fromAggregator = requested.filter((u) => u.startsWith(`${agg!.url}fedrec/`))
    expect(fromAggregator).toContain(`${agg.url}fedrec/element.js`)
    expect(fromAggregator).toContain(`${agg.url}fedrec/worker.js`)
    expect(fromAggregator.some((u) => u.endsWith('.wasm'))).toBe(true)
  } finally {
    await site.close()
  }
})

test('assetBase: the worker and the WebAssembly come from the shop’s own folder instead', async ({
  page,
}) => {
  const dir = scratch('asset-base')
  // The shop copied the package's files to its static folder, as docs/adopters.md says.
  mkdirSync(join(dir, 'static/fedrec'), { recursive: true })
  execFileSync('tar', [
    'xzf',
    tarballs()['@fedrec/browser']!,
    '-C',
    join(dir, 'static/fedrec'),
    '--strip-components=1',
  ])
  const site = await serveStatic(dir)
  try {
    agg = await startPackedAggregator([...AGGREGATOR_ARGS, '--cors-origin', new URL(site.url).origin])
    const template = readFileSync(join(root, 'e2e/adopters/fixtures/script-tag/index.html'), 'utf8')
    writeFileSync(join(dir, 'index.html'), template.replaceAll('AGGREGATOR', agg.url.replace(/\/$/, '')))

    const { report, requested } = await shopperGetsPersonalRecommendations(
      page,
      `${site.url}?backend=wasm&assetBase=${encodeURIComponent('/static/fedrec/')}`,
      agg,
    )
    expect(report.backend).toBe('wasm')
    expect(requested).toContain(`${site.url}static/fedrec/worker.js`)
    expect(requested.some((u) => u.startsWith(`${site.url}static/fedrec/`) && u.endsWith('.wasm'))).toBe(true)
    expect(
      requested.filter((u) => /\/fedrec\/(worker\.js|.*\.wasm)$/.test(u) && u.startsWith(agg!.url)),
    ).toEqual([])
  } finally {
    await site.close()
  }
})
