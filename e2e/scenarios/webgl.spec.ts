// QA scenario: without WebGL, or when its context is lost mid-training, the round still completes on WASM.
import { expect, loseWebGLContextDuringNextDraws, test } from '../kit/index.ts'

test('without WebGL the worker falls back to WASM and completes the round', { tag: '@webgl' }, async ({
  qa,
}) => {
  const recorder = qa.recorder('webgl-unavailable')
  const population = qa.population(2)
  const agg = await qa.aggregator({ minClients: 2, catalogue: population.catalogue })
  // No GPU and no software rasteriser: OffscreenCanvas has no WebGL context at all in this browser.
  const noGpu = await qa.launchBrowser({
    add: ['--disable-gpu', '--disable-software-rasterizer'],
    remove: ['--enable-unsafe-swiftshader'],
  })
  const without = await qa.shopper(agg, population.profiles[0]!, { browser: noGpu })
  const withGl = await qa.shopper(agg, population.profiles[1]!)
  expect(await without.backend()).toBe('wasm')
  const record = await qa.round(agg, [without, withGl])
  expect(record.closedBy).toBe('quorum')
  expect(record.participants).toBe(2)
  expect(record.shoppers.map((s) => [s.backend, s.uploaded])).toEqual([
    ['wasm', true],
    ['webgl', true],
  ])
  expect(without.errors).toEqual([])
  recorder.measure(
    'backends',
    record.shoppers.map((s) => s.backend),
  )
})

test('a WebGL context lost mid-training: the round completes on WASM', { tag: '@webgl' }, async ({ qa }) => {
  const recorder = qa.recorder('webgl-context-lost')
  const population = qa.population(1)
  const agg = await qa.aggregator({ minClients: 1, catalogue: population.catalogue })
  const shopper = await qa.shopper(agg, population.profiles[0]!)
  const warm = await shopper.sync()
  expect(warm.backend).toBe('webgl')
  const topBefore = await shopper.recommend(5)

  const lost = await loseWebGLContextDuringNextDraws(shopper, { afterDraws: 10 })
  const report = await shopper.sync()
  expect(await lost()).toBe(true)
  expect(report.backend).toBe('wasm')
  expect(report.uploaded).toBe(true)
  expect(report.round).toBe(warm.round + 1)
  expect(Number.isFinite(report.loss)).toBe(true)
  expect(await shopper.backend()).toBe('wasm')
  const topAfter = await shopper.recommend(5)
  expect(topAfter).toHaveLength(5)
  expect(topBefore).toHaveLength(5)
  expect((await agg.status()).history.at(-1)!.participants).toBe(1)
  recorder.measure('contextLost', { warmMs: Math.round(warm.ms), fallbackMs: Math.round(report.ms) })
})
