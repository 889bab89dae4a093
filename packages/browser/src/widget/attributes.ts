/** The element's attributes parsed into typed settings: pure functions, no DOM, tested in Node. */
import { isLeaveOut, type LeaveOut } from '../events.ts'

const DEFAULT_COUNT = 8
const DEFAULT_DB_NAME = 'fedrec'

/** `for-you` ranks by the shopper's profile; `similar` by closeness to the `item` attribute. */
export type WidgetMode = 'for-you' | 'similar'

/** Everything the element reads from its attributes, parsed and defaulted. */
export interface WidgetAttributes {
  /** The aggregator's base URL ending in `/`, or null without a usable `endpoint`. */
  endpoint: string | null
  dbName: string
  count: number
  /** The `heading` attribute as written, or null for the default heading. */
  heading: string | null
  mode: WidgetMode
  /** The `item` attribute (the product the page is about), or undefined. */
  item: string | undefined
  exclude: string[]
  leaveOut: LeaveOut
  /** `item-url` with its `{id}` placeholder, or null. */
  itemUrl: string | null
  /** `shop`: the shop's name in a model several shops share (the library's `shop` option checks it). */
  shop?: string
}

/**
 * Reads every attribute through `get` (the element's `getAttribute`); `base` resolves a relative endpoint.
 * @example readAttributes((name) => el.getAttribute(name), location.href).count // 8 without a count
 */
export function readAttributes(get: (name: string) => string | null, base: string): WidgetAttributes {
  return {
    endpoint: parseEndpoint(get('endpoint'), base),
    dbName: parseDbName(get('db-name')),
    count: parseCount(get('count')),
    heading: get('heading'),
    mode: parseMode(get('mode'), get('item')),
    item: get('item') ?? undefined,
    exclude: parseExclude(get('exclude')),
    leaveOut: parseLeaveOut(get('leave-out')),
    itemUrl: get('item-url'),
    ...(get('shop') ? { shop: get('shop')! } : {}),
  }
}

/**
 * `count`: a whole number from 1 to 50, else 8.
 * @example parseCount('3') // 3; parseCount('0') // 8
 */
export function parseCount(raw: string | null): number {
  const n = Number(raw ?? DEFAULT_COUNT)
  return Number.isInteger(n) && n >= 1 && n <= 50 ? n : DEFAULT_COUNT
}

/**
 * `mode`: 'similar' only with an `item` to be similar to; anything else is 'for-you'.
 * @example parseMode('similar', 'sku-1') // 'similar'; parseMode('similar', null) // 'for-you'
 */
export function parseMode(mode: string | null, item: string | null): WidgetMode {
  return mode === 'similar' && item ? 'similar' : 'for-you'
}

/**
 * `exclude`: item ids separated by spaces and/or commas.
 * @example parseExclude('a, b c') // ['a', 'b', 'c']
 */
export function parseExclude(raw: string | null): string[] {
  return (raw ?? '').split(/[\s,]+/).filter((x) => x !== '')
}

/**
 * `leave-out`: which of the shopper's own items are not shown again ('carted' unless it says 'bought'/'seen').
 * @example parseLeaveOut('bought') // 'bought'; parseLeaveOut('all') // 'carted'
 */
export function parseLeaveOut(raw: string | null): LeaveOut {
  return isLeaveOut(raw) ? raw : 'carted'
}

/**
 * `endpoint`: resolved against `base` and ending in `/` (so `new URL('v1/model', endpoint)` stays under it);
 * null when missing or not a URL.
 * @example parseEndpoint('/agg', 'https://shop.example/p') // 'https://shop.example/agg/'
 */
export function parseEndpoint(raw: string | null, base: string): string | null {
  if (!raw) return null
  try {
    const url = new URL(raw, base)
    if (!url.pathname.endsWith('/')) url.pathname += '/'
    return url.toString()
  } catch {
    return null
  }
}

/**
 * `db-name`: the IndexedDB database, 'fedrec' when missing or empty.
 * @example parseDbName('') // 'fedrec'
 */
export function parseDbName(raw: string | null): string {
  return raw || DEFAULT_DB_NAME
}
