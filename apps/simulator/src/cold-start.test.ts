import { describe, expect, it } from 'vitest'
import { coldStartSplit } from './cold-split.ts'
import { formatColdStart } from './cold-table.ts'
import { loadDataset } from './datasets/index.ts'
import { useNodeBackend } from './node-backend.ts'
import { DEFAULTS, type SimulationOptions } from './options.ts'
import { simulate } from './simulate.ts'
import { leaveOneOut } from './split.ts'
import { newProductsFile } from './test-data.ts'

const { tf, backend } = await useNodeBackend()

// 8 categories × (10 old + 5 new) items; every shopper's held-out item is a new product of its category.
const path = newProductsFile({
  groups: 8,
  oldPerGroup: 10,
  newPerGroup: 5,
  usersPerGroup: 10,
  perUser: 6,
  seed: 1,
})
const NEW_FRACTION = 40 / 120

const options: SimulationOptions = {
  ...DEFAULTS,
  dataset: 'generic',
  path,
  rounds: 6,
  centralEpochs: 3,
  dim: 8,
  endpoint: undefined,
  coldItems: NEW_FRACTION,
}

describe('coldStartSplit', () => {
  it('moves the latest-introduced items to the last rows and out of training, keeping what points at them', () => {
    const data = loadDataset('generic', path)
    const split = leaveOneOut(data, { negatives: 99, seed: 1 })
    const cold = coldStartSplit(data, split, NEW_FRACTION)
    expect(cold.coldFrom).toBe(80)
    expect(cold.itemIds.slice(80).every((id) => id.includes('-new'))).toBe(true)
    expect(cold.itemIds.slice(0, 80).every((id) => id.includes('-old'))).toBe(true)
    expect(cold.droppedEvents).toBe(0) // every new item here is some shopper's held-out item
    cold.users.forEach((u, i) => {
      const before = split.users[i]!
      expect(u.train.every((e) => e.row < 80)).toBe(true)
      expect(cold.itemIds[u.test!]).toBe(split.itemIds[before.test!])
      expect(u.testContext.map((e) => cold.itemIds[e.row])).toEqual(
        before.testContext.map((e) => split.itemIds[e.row]!),
      )
      expect([...u.negatives].map((r) => cold.itemIds[r])).toEqual(
        [...before.negatives].map((r) => split.itemIds[r]!),
      )
    })
  })

  it('refuses a fraction outside (0, 1)', () => {
    const data = loadDataset('generic', path)
    const split = leaveOneOut(data, { negatives: 99, seed: 1 })
    expect(() => coldStartSplit(data, split, 1)).toThrow('coldItems must be a fraction in (0, 1)')
    expect(() => coldStartSplit(data, split, 0.001)).toThrow('leaves 0 new items')
  })
})

describe('simulate --cold-items', () => {
  it('recommends new products by their category with features, at chance without', async () => {
    const res = await simulate(tf, backend, options)
    const c = res.coldStart!
    expect(c).toMatchObject({ items: 120, newItems: 40, newShoppers: 80, otherShoppers: 0, listed: false })
    const { random, popularity, features } = c.onNew
    const idOnly = c.onNew['id-only']!
    // Among the 40 new products (39 negatives at most) chance is about 10/40: ids cannot tell them apart.
    expect(random!.hr10AmongNew).toBeLessThan(0.45)
    expect(idOnly.hr10AmongNew).toBeLessThan(0.45)
    expect(c.gains.random!.hr10AmongNew.low).toBeGreaterThan(0)
    expect(c.gains['id-only']!.hr10AmongNew.low).toBeGreaterThan(0)
    expect(features!.hr10AmongNew).toBeGreaterThan(2 * random!.hr10AmongNew)
    // Nobody bought a new product in training: the bestseller list ranks them last.
    expect(popularity!.hr10).toBe(0)
    expect(c.targets.atLeastTwiceRandom && c.targets.atLeastPopularity).toBe(true)
    const printed = formatColdStart(c).join('\n')
    expect(printed).toContain('| **federated, item features** |')
    expect(printed).toContain('40 of 120')
  })

  it('without item features the run has no cold-start table', async () => {
    const res = await simulate(tf, backend, { ...options, itemFeatures: 'off', centralEpochs: 1, rounds: 1 })
    expect(res.coldStart).toBeUndefined()
    expect(res.settings.featuresUsed).toBe(false)
  })
})
