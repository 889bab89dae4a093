// The browser benchmark's synthetic inputs (catalogues and shopper histories of any size) and the statistics
// its figures are reported with.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TrackEvent } from '@fedrec/browser'
import { seeded } from '../kit/random.ts'

/** Item id of catalogue row `i`. */
export const itemId = (i: number): string => `sku-${String(i).padStart(6, '0')}`

/**
 * Writes a catalogue of `items` ids as an aggregator `--catalogue` file in `dir`; returns its path.
 * @example const path = writeCatalogue(dir, 10_000) // ["sku-000000", …]
 */
export function writeCatalogue(dir: string, items: number): string {
  const path = join(dir, `catalogue-${items}.json`)
  writeFileSync(path, JSON.stringify(Array.from({ length: items }, (_, i) => itemId(i))))
  return path
}

/**
 * A shopper's history of `events` interactions: mostly clicks, some carts and purchases, on items of one
 * "aisle" (a window of the catalogue twice as long as the history, as a category would be), with repeats,
 * as a real shopper who comes back to what they looked at.
 * @example shopperHistory({ events: 200, items: 10_000, seed: 1 }).length // 200
 */
export function shopperHistory(options: { events: number; items: number; seed: number }): TrackEvent[] {
  const { events, items, seed } = options
  const rng = seeded(seed)
  const width = Math.min(items, 2 * events)
  const start = Math.floor(rng() * (items - width + 1))
  return Array.from({ length: events }, () => {
    const r = rng()
    const type = r < 0.65 ? 'click' : r < 0.88 ? 'add_to_cart' : 'purchase'
    return { type, itemId: itemId(start + Math.floor(rng() * width)) }
  })
}

/** The median of `xs` (NaN for none). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** The p-th quantile (0..1) of `xs`, nearest rank. */
export function quantile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!
}
