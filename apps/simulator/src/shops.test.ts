import { createRng, DEFAULT_FEATURE_ROWS } from '@fedrec/core/client'
import { describe, expect, it } from 'vitest'
import type { Interaction, ItemCatalogue, LoadedDataset } from './datasets/index.ts'
import { useNodeBackend } from './node-backend.ts'
import { DEFAULTS, type SimulationOptions } from './options.ts'
import { parseShopRule, splitEachShop, splitShops, unionOfShops } from './shops.ts'
import { simulateShops } from './shops-cli.ts'
import { runShops } from './shops-run.ts'

const { tf } = await useNodeBackend()

/**
 * One catalogue of 8 groups × 15 items, sold by two shops. A shopper browses items of one group a, then of
 * the next group a + 1 (mod 8): 160 early shoppers (the large shop) 3 of each, 32 later ones (the small shop)
 * 3 of a and 1 of a + 1, the held-out item. An item's only feature is its group's category. The small shop's
 * training histories hold only steps within a group, so alone it cannot learn what comes after a group; the
 * large shop's can, and only the category rows carry it across (the two shops' ids are disjoint).
 */
function twoShopData(): { data: LoadedDataset; catalogue: ItemCatalogue } {
  const groups = 8
  const perGroup = 15
  const rng = createRng(7)
  const interactions: Interaction[] = []
  const pick = (n: number) => {
    const items = Array.from({ length: perGroup }, (_, i) => i)
    for (let j = 0; j < n; j++) {
      const k = j + rng.int(perGroup - j)
      ;[items[j], items[k]] = [items[k]!, items[j]!]
    }
    return items.slice(0, n)
  }
  for (let u = 0; u < 192; u++) {
    const a = u % groups
    const b = (a + 1) % groups
    const items = [...pick(3).map((i) => `g${a}-i${i}`), ...pick(u < 160 ? 3 : 1).map((i) => `g${b}-i${i}`)]
    items.forEach((item, j) => {
      interactions.push({ user: `u${u}`, item, type: 'click', timestamp: u * 100 + j })
    })
  }
  const items = new Map(
    Array.from({ length: groups * perGroup }, (_, n) => [
      `g${Math.floor(n / perGroup)}-i${n % perGroup}`,
      { categories: [`g${Math.floor(n / perGroup)}`], titleTokens: [] },
    ]),
  )
  return {
    data: { format: 'generic', path: 'generated', interactions, skipped: {} },
    catalogue: { path: 'generated', categoryKind: 'path', items, priceEdges: [], notes: {} },
  }
}

const options: SimulationOptions = {
  ...DEFAULTS,
  dataset: 'generic',
  path: 'generated',
  rounds: 5,
  dim: 8,
  endpoint: undefined,
}

describe('shops learning together', () => {
  it('the small shop gains from the large one through shared category features, and not id-only', async () => {
    const { data, catalogue } = twoShopData()
    const shops = splitShops(data, parseShopRule(`time:${32 / 192}`), { catalogue })
    const [large, small] = splitEachShop(shops, catalogue, { negatives: 99, seed: 1 })
    expect([large!.split.counts.users, small!.split.counts.users]).toEqual([160, 32])
    const r = await runShops(tf, [large!, small!], options, DEFAULT_FEATURE_ROWS)
    const s = r.shops[1]
    expect(r.featureStrings).toEqual({ large: 8, small: 8, shared: 8 })
    // Within a group the items are interchangeable by construction: what the features can carry is which
    // group comes next, so the measure is whether that group's 15 items reach the top 20 of the whole
    // catalogue (Recall@20), not the held-out item's rank among 99 sampled negatives, where about 12 of its
    // interchangeable group mates compete with it (HR@10 caps near 10/13 and is noise within the group).
    // Together with features: the category rows the large shop trained bring the next group up.
    expect(s.gain.features!.recall20.low).toBeGreaterThan(0)
    expect(s.models['together, features']!.recall20).toBeGreaterThan(s.models.popularity!.recall20)
    // Id-only, the shops share nothing: together is the small shop alone.
    expect(s.gain.idOnly!.recall20.low).toBeLessThanOrEqual(0)
    expect(s.gain.idOnly!.recall20.high).toBeGreaterThanOrEqual(0)
    expect(Math.abs(s.gain.idOnly!.recall20.mean)).toBeLessThan(0.05)
  }, 300_000)
})

describe('splitting a data set into shops', () => {
  const event = (user: string, item: string, timestamp: number): Interaction => ({
    user,
    item,
    type: 'purchase',
    timestamp,
  })
  const data: LoadedDataset = {
    format: 'generic',
    path: 'x.csv',
    interactions: [event('a', '1', 5), event('b', '2', 1), event('a', '3', 6), event('c', '1', 9)],
    skipped: {},
  }

  it('parses the rules and refuses the rest, naming the flag', () => {
    expect(parseShopRule('country')).toEqual({ kind: 'country' })
    expect(parseShopRule('time')).toEqual({ kind: 'time', smallShare: 0.2 })
    expect(parseShopRule('time:0.3')).toEqual({ kind: 'time', smallShare: 0.3 })
    expect(parseShopRule('category:appliances')).toEqual({ kind: 'category', family: 'appliances' })
    for (const bad of [
      '',
      'country:x',
      'time:1',
      'time:0',
      'time:x',
      'category:',
      'category',
      'brand',
      'time:0.1:2',
    ])
      expect(() => parseShopRule(bad), bad).toThrow(/--shops/)
  })

  it('cuts by country, by time and by category family; a rule without its attribute is an error', () => {
    const byCountry = splitShops(
      data,
      { kind: 'country' },
      {
        countryOf: new Map([
          ['a', 'United Kingdom'],
          ['b', 'France'],
          ['c', 'United Kingdom'],
        ]),
      },
    )
    expect(byCountry.map((s) => s.data.interactions.map((e) => e.user).join(''))).toEqual(['aac', 'b'])
    const byTime = splitShops(data, { kind: 'time', smallShare: 0.34 }, {})
    expect(byTime.map((s) => s.data.interactions.map((e) => e.user).join(''))).toEqual(['aba', 'c'])
    const meta = (top: string) => ({ categories: [top, `${top}.x`], titleTokens: [] })
    const catalogue: ItemCatalogue = {
      path: 'items.csv',
      categoryKind: 'path',
      items: new Map([
        ['1', meta('appliances')],
        ['2', meta('electronics')],
        ['3', meta('appliances')],
      ]),
      priceEdges: [],
      notes: {},
    }
    const byFamily = splitShops(data, { kind: 'category', family: 'appliances' }, { catalogue })
    expect(byFamily.map((s) => s.data.interactions.map((e) => e.item).join(''))).toEqual(['2', '131'])
    expect(() => splitShops(data, { kind: 'country' }, {})).toThrow(/countries/)
    expect(() => splitShops(data, { kind: 'category', family: 'toys' }, { catalogue })).toThrow(
      /toys shop has no/,
    )
  })

  it('the union keeps each shop its own rows: shop 2 at an offset, its events and held-out items moved', () => {
    const twoShoppers: LoadedDataset = {
      ...data,
      interactions: ['1', '2', '3']
        .map((item, j) => event('a', item, j))
        .concat(['1', '2', '4'].map((item, j) => event('c', item, 10 + j))),
    }
    const [large, small] = splitEachShop(
      splitShops(twoShoppers, { kind: 'time', smallShare: 0.5 }, {}),
      undefined,
      { negatives: 1, seed: 1 },
    )
    expect(small!.features).toEqual([[], [], []])
    const { split, offsets, shopOfUser } = unionOfShops([small!.split, large!.split], ['s', 'l'])
    expect(offsets).toEqual([0, 3])
    expect(split.itemIds).toEqual(['s:1', 's:2', 's:4', 'l:1', 'l:2', 'l:3'])
    expect([...shopOfUser]).toEqual([0, 1])
    expect(split.users.map((u) => [u.id, u.train.map((e) => e.row), u.validation, u.test])).toEqual([
      ['s:c', [0], 1, 2],
      ['l:a', [3], 4, 5],
    ])
    expect(split.evalUsers).toEqual([0, 1])
  })

  it('refuses flags the shops run does not support, before reading the data', async () => {
    const base = { ...options, path: '/nonexistent/data.csv' }
    for (const [o, flag] of [
      [{ ...base, endpoint: 'http://127.0.0.1:1/' }, '--endpoint'],
      [{ ...base, attack: true }, '--attack'],
      [{ ...base, secureAggregation: true }, '--secure-aggregation'],
      [{ ...base, dpNoiseMultiplier: 1 }, '--dp-noise-multiplier'],
      [{ ...base, itemFeatures: 'off' as const }, '--item-features off'],
    ] as const)
      await expect(simulateShops(tf, o, 'time'), flag).rejects.toThrow(flag)
    await expect(simulateShops(tf, base, 'nope')).rejects.toThrow(/--shops "nope"/)
  })
})
