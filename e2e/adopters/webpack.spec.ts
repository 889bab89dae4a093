// Proves a stock webpack 5 build adopts the packed library: its worker and .wasm files ship with the app.
import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { expect, test } from '@playwright/test'
import webpack, { type Configuration, type Stats } from 'webpack'
import { installApp, removeScratch } from './packed.ts'
import { type PackedAggregator, startPackedAggregator } from './packed-aggregator.ts'
import { AGGREGATOR_ARGS, shopperGetsPersonalRecommendations } from './shopper.ts'
import { serveStatic } from './static-server.ts'

// A shop built with webpack 5 (production mode, no loader, nothing fedrec-specific in its configuration)
// that installs the packed @fedrec/browser.

let agg: PackedAggregator | undefined
test.afterEach(async () => {
  await agg?.stop()
  agg = undefined
  removeScratch()
})

test('built with webpack 5, a shopper gets personal recommendations', async ({ page }) => {
  const app = installApp('webpack', ['webpack'])
  const config = (
    (await import(pathToFileURL(join(app, 'webpack.config.mjs')).href)) as { default: Configuration }
  ).default
  const stats = await new Promise<Stats>((resolve, reject) =>
    webpack(config, (err, result) =>
      err || !result ? reject(err ?? new Error('no stats')) : resolve(result),
    ),
  )
  const info = stats.toJson({ all: false, errors: true, assets: true })
  expect(info.errors ?? []).toEqual([])
  const assets = (info.assets ?? []).map((a) => a.name)
  // webpack followed new Worker(new URL(…)) and the worker's new URL('….wasm'): both emitted with the app.
  expect(assets.filter((name) => name.endsWith('.wasm')).length).toBeGreaterThanOrEqual(1)
  copyFileSync(join(app, 'index.html'), join(app, 'dist/index.html'))

  const site = await serveStatic(join(app, 'dist'))
  try {
    agg = await startPackedAggregator([...AGGREGATOR_ARGS, '--cors-origin', new URL(site.url).origin])
    const { report, requested } = await shopperGetsPersonalRecommendations(
      page,
      `${site.url}?endpoint=${encodeURIComponent(agg.url)}&backend=wasm`,
      agg,
    )
    expect(report.backend).toBe('wasm')
    expect(requested.some((u) => u.startsWith(site.url) && u.endsWith('.wasm'))).toBe(true)
    expect(requested.every((u) => u.startsWith(site.url) || u.startsWith(agg!.url))).toBe(true)
  } finally {
    await site.close()
  }
})
