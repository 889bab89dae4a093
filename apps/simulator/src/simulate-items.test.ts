import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useNodeBackend } from './node-backend.ts'
import { DEFAULTS, type SimulationOptions } from './options.ts'
import { simulate } from './simulate.ts'
import { tasteGroupsFile } from './test-data.ts'

const { tf, backend } = await useNodeBackend()

/**
 * Taste groups (4 × 12 items, each shopper 8 items of its group) whose categories cut across the tastes:
 * item i of every group is in category k(i mod 3), so a category list holds 16 items of all four tastes,
 * about equally popular, and only the shopper's taste tells its items apart.
 */
const path = tasteGroupsFile({ users: 48, groups: 4, itemsPerGroup: 12, perUser: 8, seed: 3 })
const itemLines = Array.from({ length: 48 }, (_, n) => {
  const [g, i] = [Math.floor(n / 12), n % 12]
  return `g${g}-i${i},shop.k${i % 3},brand${g},${1 + n},`
})
writeFileSync(join(dirname(path), 'items.csv'), `item,category,brand,price,title\n${itemLines.join('\n')}\n`)

const options: SimulationOptions = {
  ...DEFAULTS,
  dataset: 'generic',
  path,
  rounds: 6,
  centralEpochs: 20,
  dim: 8,
  endpoint: undefined,
}

describe('simulate with item metadata', () => {
  it('finds items.csv beside the data and re-ranks category lists by taste, well above the shop orders', async () => {
    const res = await simulate(tf, backend, options)
    expect(res.items).toMatchObject({
      path: join(dirname(path), 'items.csv'),
      categoryKind: 'path',
      items: 48,
      rowsWithMetadata: 48,
      rowsWithCategory: 48,
      rowsWithPrice: 48,
      categories: 3,
      priceEdges: [10, 20, 29, 39],
    })
    const r = res.rerank!
    expect(r.shoppers + r.skipped.smallLists).toBe(48)
    expect(Object.keys(r.orders)).toEqual([
      'random',
      'popularity',
      'co-occurrence',
      'centralized',
      'federated',
    ])
    for (const model of ['federated', 'centralized', 'co-occurrence']) {
      expect(r.gainOverPopularity[model]!.ndcg10.low).toBeGreaterThan(0)
      expect(r.orders[model]!.ndcg10).toBeGreaterThan(r.orders.random!.ndcg10 + 0.2)
    }
  })

  it('reads --items from elsewhere, and stops on a malformed item file before any training', async () => {
    const elsewhere = join(dirname(path), 'other-items.csv')
    writeFileSync(elsewhere, 'item,category,brand,price,title\ng0-i0,shop.k0,,1,\ng0-i1,shop..k1,,2,\n')
    await expect(simulate(tf, backend, { ...options, items: elsewhere })).rejects.toThrow(
      'other-items.csv:3: category must not have an empty level between dots',
    )
  })
})
