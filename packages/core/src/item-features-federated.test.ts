import { expect, it } from 'vitest'
import { useNodeBackend } from './test-backend-node.ts'
import { describeWithBackends } from './test-backends.ts'
import {
  coldHitRate,
  federatedColdStart,
  generateColdStartShop,
  popularityHitRate,
} from './test-cold-start.ts'

const { tf } = await useNodeBackend()

// One backend: the run is a few hundred client rounds per model; item-features-training.test.ts checks the
// feature path itself on every backend.
describeWithBackends('item features, federated, on products nobody touched', ['wasm'], () => {
  it('rank a shopper’s cold item of their category far above chance, where the id-only model is at chance', async () => {
    const shop = generateColdStartShop(1)
    const rounds = 4
    const withFeatures = await federatedColdStart(tf, shop, { rounds, numFeatures: 4096, seed: 2 })
    const idOnly = await federatedColdStart(tf, shop, { rounds, numFeatures: undefined, seed: 2 })
    const hr = {
      features: await coldHitRate(tf, shop, withFeatures),
      idOnly: await coldHitRate(tf, shop, idOnly),
      random: 10 / shop.cold.length,
      popularity: popularityHitRate(shop),
    }
    // The report's table of these numbers: packages/core/scripts/item-features-numbers.ts.
    expect(hr.features).toBeGreaterThanOrEqual(3 * hr.random)
    // 100 test shoppers: chance is 0.05 ± 0.022; 0.12 is three standard deviations above it.
    expect(hr.idOnly).toBeLessThan(0.12)
    expect(hr.features).toBeGreaterThan(hr.idOnly + 0.2)
    // Nothing to rank by: every cold item has zero training clicks.
    expect(hr.popularity).toBe(0)
  })
})
