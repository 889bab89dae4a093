// Proves a shopper trains and uploads on each tfjs backend the library offers: WebGL, WASM and CPU.
import type { HistoryEvent } from './kit/index.ts'
import { expect, test } from './kit/index.ts'

// The fallback to WASM in a browser without WebGL, and a WebGL context lost mid-training, are QA scenarios:
// scenarios/webgl.spec.ts.

for (const backend of ['webgl', 'wasm', 'cpu'] as const) {
  test(`a shopper trains and uploads on the ${backend} backend`, async ({ qa }) => {
    // Quorum of one: every upload closes a round, so each sync is a fresh round.
    const agg = await qa.aggregator({ minClients: 1, seed: 5 })
    const category = qa.products[0]!.category
    const items = qa.products.filter((p) => p.category === category).map((p) => p.id)
    const types = ['click', 'click', 'click', 'add_to_cart', 'purchase'] as const
    const events: HistoryEvent[] = Array.from({ length: 50 }, (_, i) => ({
      type: types[i % types.length]!,
      itemId: items[(i * 7) % items.length]!,
    }))
    const shopper = await qa.shopper(agg, { name: `${backend} shopper`, events }, { backends: [backend] })
    const first = await shopper.sync()
    const second = await shopper.sync()
    for (const report of [first, second]) {
      expect(report.backend).toBe(backend)
      expect(report.uploaded).toBe(true)
      expect(report.samples).toBeGreaterThan(0)
      expect(Number.isFinite(report.loss)).toBe(true)
    }
    expect(second.round).toBe(first.round + 1)
    expect(await shopper.recommend(10)).toHaveLength(10)
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
