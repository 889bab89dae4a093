// Test support only: small generated data sets (tests never read the real files in ../shared/data).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createRng } from '@fedrec/core/client'
import { afterAll } from 'vitest'

/**
 * A generic CSV of shoppers with clear tastes: `groups` groups of `itemsPerGroup` items; each shopper touches
 * `perUser` items of its own group in random order, so every item is about equally popular (popularity is
 * near chance) while the group structure is easy to learn.
 * @example const csv = tasteGroupsCsv({ users: 60, groups: 4, itemsPerGroup: 12, perUser: 8, seed: 1 })
 */
export function tasteGroupsCsv(o: {
  users: number
  groups: number
  itemsPerGroup: number
  perUser: number
  seed: number
}): string {
  const rng = createRng(o.seed)
  const lines = ['user,item,type,timestamp']
  for (let u = 0; u < o.users; u++) {
    const group = u % o.groups
    const items = Array.from({ length: o.itemsPerGroup }, (_, i) => i)
    for (let j = 0; j < o.perUser; j++) {
      const k = j + rng.int(items.length - j)
      ;[items[j], items[k]] = [items[k]!, items[j]!]
      const type = rng.next() < 0.2 ? 'purchase' : 'click'
      lines.push(`u${u},g${group}-i${items[j]},${type},${1000 + j * 10 + rng.int(5)}`)
    }
  }
  return `${lines.join('\n')}\n`
}

/**
 * A generic CSV of short sessions with a known next-item structure: each shopper browses `first` items of one
 * group, then `second` items of another, in time order. Every item is about equally popular (popularity is
 * near chance); what comes next depends on the group the shopper is in now, so an order-blind model sees two
 * groups where a sequence-aware one sees the current one.
 * @example const csv = groupSessionsCsv({ users: 120, groups: 8, itemsPerGroup: 6, first: 3, second: 3, seed: 1 })
 */
export function groupSessionsCsv(o: {
  users: number
  groups: number
  itemsPerGroup: number
  first: number
  second: number
  seed: number
}): string {
  const rng = createRng(o.seed)
  const lines = ['user,item,type,timestamp']
  const pick = (group: number, n: number) => {
    const items = Array.from({ length: o.itemsPerGroup }, (_, i) => i)
    for (let j = 0; j < n; j++) {
      const k = j + rng.int(items.length - j)
      ;[items[j], items[k]] = [items[k]!, items[j]!]
    }
    return items.slice(0, n).map((i) => `g${group}-i${i}`)
  }
  for (let u = 0; u < o.users; u++) {
    const a = rng.int(o.groups)
    const b = (a + 1 + rng.int(o.groups - 1)) % o.groups
    const items = [...pick(a, o.first), ...pick(b, o.second)]
    items.forEach((item, j) => {
      const type = rng.next() < 0.1 ? 'add_to_cart' : 'click'
      lines.push(`s${u},${item},${type},${1_000_000 + u * 1000 + j * 10}`)
    })
  }
  return `${lines.join('\n')}\n`
}

/** `groupSessionsCsv` in a fresh temporary folder, removed after the calling test file. */
export function groupSessionsFile(o: Parameters<typeof groupSessionsCsv>[0]): string {
  return writeScratch('sessions.csv', groupSessionsCsv(o))
}

/**
 * `tasteGroupsCsv` written to a file in a fresh temporary folder, removed after the calling test file.
 * @example const path = tasteGroupsFile({ users: 48, groups: 4, itemsPerGroup: 12, perUser: 8, seed: 3 })
 */
export function tasteGroupsFile(o: Parameters<typeof tasteGroupsCsv>[0]): string {
  return writeScratch('tastes.csv', tasteGroupsCsv(o))
}

function writeScratch(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-sim-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

/**
 * A shop whose newest products only their features can place: `groups` categories of `oldPerGroup` old and
 * `newPerGroup` new items. Every shopper stays in one category: it touches `perUser` of its old items early,
 * then one of its new items (first touched after every old item was). `items` is the matching items CSV:
 * the category is the group, the brand and price are drawn at random (they say nothing).
 * @example const { csv, items } = newProductsShop({ groups: 8, oldPerGroup: 10, newPerGroup: 5, usersPerGroup: 10, perUser: 6, seed: 1 })
 */
export function newProductsShop(o: {
  groups: number
  oldPerGroup: number
  newPerGroup: number
  usersPerGroup: number
  perUser: number
  seed: number
}): { csv: string; items: string } {
  const rng = createRng(o.seed)
  const lines = ['user,item,type,timestamp']
  for (let u = 0; u < o.groups * o.usersPerGroup; u++) {
    const group = u % o.groups
    const old = Array.from({ length: o.oldPerGroup }, (_, i) => i)
    for (let j = 0; j < o.perUser; j++) {
      const k = j + rng.int(old.length - j)
      ;[old[j], old[k]] = [old[k]!, old[j]!]
      lines.push(`u${u},g${group}-old${old[j]},click,${1000 + j * 10 + rng.int(5)}`)
    }
    const fresh = Math.floor(u / o.groups) % o.newPerGroup
    lines.push(`u${u},g${group}-new${fresh},click,${5000 + rng.int(100)}`)
  }
  const itemLines: string[] = []
  for (let g = 0; g < o.groups; g++) {
    const row = (id: string) => `${id},cat${g},brand${rng.int(5)},${1 + rng.int(50)},`
    for (let i = 0; i < o.oldPerGroup; i++) itemLines.push(row(`g${g}-old${i}`))
    for (let i = 0; i < o.newPerGroup; i++) itemLines.push(row(`g${g}-new${i}`))
  }
  return { csv: `${lines.join('\n')}\n`, items: `item,category,brand,price,title\n${itemLines.join('\n')}\n` }
}

/** `newProductsShop` as `shop.csv` and `items.csv` in a fresh temporary folder; returns the shop's path. */
export function newProductsFile(o: Parameters<typeof newProductsShop>[0]): string {
  const { csv, items } = newProductsShop(o)
  const path = writeScratch('shop.csv', csv)
  writeFileSync(join(dirname(path), 'items.csv'), items)
  return path
}
