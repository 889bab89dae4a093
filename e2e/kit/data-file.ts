// Real histories for QA runs (FEDREC_QA_DATA): a data-set file turned into shopper profiles instead of
// synthetic tastes.
import { readFileSync } from 'node:fs'
import { EVENT_TYPES, type EventType } from '@fedrec/browser'
import type { ShopperProfile } from './histories.ts'

/** One row of a data-set file. */
export interface Interaction {
  user: string
  item: string
  type: EventType
  timestamp: number
}

const isEventType = (x: string): x is EventType => (EVENT_TYPES as readonly string[]).includes(x)

/**
 * Reads interactions from a file, in one of two formats (told apart by the first line):
 * - generic CSV `user,item,type,timestamp` (a header line is skipped; type is click, add_to_cart or purchase);
 * - MovieLens `u.data` (tab-separated `user item rating timestamp`): rating 5 → purchase, 4 → add_to_cart,
 *   anything lower → click. Every rating counts as an interaction (implicit feedback, as in NCF).
 * A malformed line stops the load with its line number: a half-read data set would mislead.
 * @example const rows = readInteractions('/data/ml-100k/u.data')
 */
export function readInteractions(file: string): Interaction[] {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/)
  const rows: Interaction[] = []
  const tabbed = (lines[0] ?? '').includes('\t')
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue
    const cells = (tabbed ? line.split('\t') : line.split(',')).map((c) => c.trim())
    if (i === 0 && !tabbed && cells[0] === 'user') continue
    const [user, item, kind, ts] = cells
    const timestamp = Number(ts)
    if (!user || !item || kind === undefined || !Number.isFinite(timestamp))
      throw new Error(
        `${file}:${i + 1}: expected ${tabbed ? 'user\\titem\\trating\\ttimestamp' : 'user,item,type,timestamp'}, got ${JSON.stringify(line)}`,
      )
    let type: EventType
    if (tabbed) {
      const rating = Number(kind)
      if (!Number.isFinite(rating))
        throw new Error(`${file}:${i + 1}: rating ${JSON.stringify(kind)} is not a number`)
      type = rating >= 5 ? 'purchase' : rating >= 4 ? 'add_to_cart' : 'click'
    } else if (isEventType(kind)) {
      type = kind
    } else {
      throw new Error(
        `${file}:${i + 1}: type must be click, add_to_cart or purchase, got ${JSON.stringify(kind)}`,
      )
    }
    rows.push({ user, item, type, timestamp })
  }
  return rows
}

export interface DataProfilesOptions {
  shoppers: number
  /** Users with fewer interactions are skipped (default 5). */
  minEvents?: number
  /** Only the latest this many interactions of a user are tracked (default 60): tracking is per event. */
  maxEvents?: number
}

/**
 * Shoppers from a data set: the first `shoppers` users (in file order) with enough interactions; each
 * user's latest interaction is held out (leave-one-out by time) and the rest tracked, oldest first. The
 * catalogue is every item id of the file, for the aggregator's `--catalogue`.
 * @example const { profiles, itemIds } = profilesFromInteractions(readInteractions(file), { shoppers: 12 })
 */
export function profilesFromInteractions(
  rows: readonly Interaction[],
  options: DataProfilesOptions,
): { profiles: ShopperProfile[]; itemIds: string[] } {
  const { shoppers, minEvents = 5, maxEvents = 60 } = options
  const byUser = new Map<string, Interaction[]>()
  for (const r of rows) {
    const list = byUser.get(r.user)
    if (list) list.push(r)
    else byUser.set(r.user, [r])
  }
  const profiles: ShopperProfile[] = []
  for (const [user, list] of byUser) {
    if (profiles.length >= shoppers) break
    if (list.length < minEvents) continue
    const sorted = [...list].sort((a, b) => a.timestamp - b.timestamp)
    const heldOut = sorted.pop()!
    // The held-out item must not appear in what is tracked, or it would be "bought" and excluded.
    const kept = sorted.filter((r) => r.item !== heldOut.item).slice(-maxEvents)
    profiles.push({
      name: `user-${user}`,
      events: kept.map((r) => ({ type: r.type, itemId: r.item })),
      heldOut: heldOut.item,
    })
  }
  if (profiles.length < shoppers)
    throw new Error(
      `only ${profiles.length} users have ${minEvents}+ interactions; ${shoppers} were asked for`,
    )
  return { profiles, itemIds: [...new Set(rows.map((r) => r.item))] }
}
