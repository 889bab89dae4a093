// The checks of what a shop passes to the recommender: options, events, suggestion and rerank requests.
import { FedrecError } from './errors.ts'
import { isEventType, isLeaveOut, type TrackEvent } from './events.ts'
import type { RerankOptions, UnknownPlacement } from './rerank.ts'
import type { SuggestMode, SuggestRequest } from './suggest.ts'

const SUGGEST_MODES: readonly SuggestMode[] = ['for-you', 'similar', 'popular']

/**
 * A folder URL an option names — absolute or relative to the page — with a trailing slash, so that
 * `new URL('file', folder)` stays inside it. A value that is not a string or not a URL is a `bad_option`
 * naming the option.
 * @example parseFolderUrl('assetBase', '/static/fedrec').href // 'https://shop.example/static/fedrec/'
 */
export function parseFolderUrl(option: string, value: unknown): URL {
  if (typeof value !== 'string') throw new FedrecError('bad_option', `${option} must be a URL string`)
  let url: URL
  try {
    url = new URL(value, globalThis.location?.href)
  } catch (cause) {
    throw new FedrecError('bad_option', `${option} ${JSON.stringify(value)} is not a URL`, { cause })
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  return url
}

/** The aggregator's base URL, absolute and with a trailing slash. @example parseEndpoint('/agg') // 'https://shop.example/agg/' */
export function parseEndpoint(endpoint: unknown): string {
  return parseFolderUrl('endpoint', endpoint).toString()
}

/** What a shop's namespace may be: 1..32 letters, digits, `_` or `-` (the aggregator's `--catalogue a=…` takes the same). */
const SHOP_NAME = /^[A-Za-z0-9_-]{1,32}$/

/**
 * The `shop` option: the shop's namespace in a model several shops share, checked.
 * @example checkShop('bramble') // 'bramble'
 */
export function checkShop(shop: unknown): string {
  if (typeof shop !== 'string')
    throw new FedrecError('bad_option', `shop must be a string, got ${describe(shop)}`)
  if (!SHOP_NAME.test(shop))
    throw new FedrecError(
      'bad_option',
      `shop must be 1 to 32 letters, digits, '_' or '-' (the prefix of its ids in the shared model, as in 'bramble:sku-1'), got ${describe(shop)}`,
    )
  return shop
}

/** A tracked event as stored, its fields checked. */
export function checkEvent(event: unknown): TrackEvent {
  if (typeof event !== 'object' || event === null)
    throw new FedrecError('bad_event', 'track() needs an object')
  const { type, itemId, source } = event as Record<string, unknown>
  if (!isEventType(type)) {
    throw new FedrecError(
      'bad_event',
      `event type must be click, add_to_cart or purchase, got ${JSON.stringify(type)}`,
    )
  }
  if (typeof itemId !== 'string' || itemId.length === 0 || itemId.length > 256) {
    throw new FedrecError(
      'bad_event',
      `itemId must be a non-empty string of at most 256 characters, got ${JSON.stringify(itemId)}`,
    )
  }
  if (source !== undefined && typeof source !== 'string')
    throw new FedrecError('bad_event', 'source must be a string')
  return source === undefined ? { type, itemId } : { type, itemId, source }
}

/** A suggestion request with its defaults, its fields checked. */
export function checkSuggestRequest(request: unknown): SuggestRequest {
  if (typeof request !== 'object' || request === null)
    throw new FedrecError('bad_option', 'suggest() needs an object')
  const {
    mode = 'for-you',
    k = 10,
    itemId,
    exclude = [],
    leaveOut = 'carted',
  } = request as Record<string, unknown>
  if (!SUGGEST_MODES.includes(mode as SuggestMode))
    throw new FedrecError(
      'bad_option',
      `mode must be for-you, similar or popular, got ${JSON.stringify(mode)}`,
    )
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 100)
    throw new FedrecError('bad_option', `k must be an integer from 1 to 100, got ${JSON.stringify(k)}`)
  if (itemId !== undefined && typeof itemId !== 'string')
    throw new FedrecError('bad_option', 'itemId must be a string')
  if (mode === 'similar' && itemId === undefined)
    throw new FedrecError('bad_option', "mode 'similar' needs an itemId")
  if (!Array.isArray(exclude) || !exclude.every((x) => typeof x === 'string'))
    throw new FedrecError('bad_option', 'exclude must be an array of item ids')
  if (!isLeaveOut(leaveOut))
    throw new FedrecError(
      'bad_option',
      `leaveOut must be 'carted', 'bought' or 'seen', got ${JSON.stringify(leaveOut)}`,
    )
  return {
    mode: mode as SuggestMode,
    k,
    exclude: [...exclude],
    leaveOut,
    ...(itemId === undefined ? {} : { itemId }),
  }
}

/**
 * The most ids one `rerank()` takes. Far more than a page shows (a search page, a category of a few
 * hundred), small enough that the copy to the worker and the scoring (10,000 × dim multiply-adds) stay
 * within a frame; a shop wanting its whole catalogue ordered asks `recommend()` instead.
 */
export const MAX_RERANK_ITEMS = 10_000

const UNKNOWN_PLACEMENTS: readonly UnknownPlacement[] = ['keep-place', 'last']

/** A `rerank()` call's options with their defaults (`k` stays undefined for "all"). */
export type CheckedRerankOptions = Required<Omit<RerankOptions, 'k'>> & { k: number | undefined }

/**
 * A `rerank()` call's list and options, checked: an array of at most {@link MAX_RERANK_ITEMS} distinct
 * non-empty string ids. Duplicates are refused, not merged: the answer is a permutation of the shop's list,
 * and a repeated id is a bug in that list the shop should hear of.
 * @example checkRerank(['sku-1', 'sku-2'], { context: 'search' }).options.unknown // 'keep-place'
 */
export function checkRerank(
  itemIds: unknown,
  options: unknown,
): { itemIds: string[]; options: CheckedRerankOptions } {
  if (!Array.isArray(itemIds))
    throw new FedrecError('bad_option', `rerank() needs an array of item ids, got ${describe(itemIds)}`)
  if (itemIds.length > MAX_RERANK_ITEMS)
    throw new FedrecError(
      'bad_option',
      `rerank() takes at most ${MAX_RERANK_ITEMS} item ids, got ${itemIds.length}; for the whole catalogue use recommend()`,
    )
  const firstAt = new Map<string, number>()
  for (const [i, id] of itemIds.entries()) {
    if (typeof id !== 'string' || id.length === 0 || id.length > 256)
      throw new FedrecError(
        'bad_option',
        `rerank() item ids must be non-empty strings of at most 256 characters; item ${i} is ${describe(id)}`,
      )
    const first = firstAt.get(id)
    if (first !== undefined)
      throw new FedrecError(
        'bad_option',
        `rerank() needs each item id once; ${JSON.stringify(id)} is at ${first} and at ${i}`,
      )
    firstAt.set(id, i)
  }
  return { itemIds: [...itemIds], options: checkRerankOptions(options) }
}

function checkRerankOptions(options: unknown): CheckedRerankOptions {
  if (typeof options !== 'object' || options === null)
    throw new FedrecError('bad_option', `rerank() options must be an object, got ${describe(options)}`)
  const {
    context = 'list',
    unknown = 'keep-place',
    leaveOut = 'none',
    k,
  } = options as Record<string, unknown>
  if (typeof context !== 'string' || context.length === 0 || context.length > 64)
    throw new FedrecError(
      'bad_option',
      `context must be a non-empty string of at most 64 characters, got ${describe(context)}`,
    )
  if (!UNKNOWN_PLACEMENTS.includes(unknown as UnknownPlacement))
    throw new FedrecError('bad_option', `unknown must be 'keep-place' or 'last', got ${describe(unknown)}`)
  if (leaveOut !== 'none' && !isLeaveOut(leaveOut))
    throw new FedrecError(
      'bad_option',
      `leaveOut must be 'none', 'carted', 'bought' or 'seen', got ${describe(leaveOut)}`,
    )
  if (k !== undefined && (typeof k !== 'number' || !Number.isInteger(k) || k < 1))
    throw new FedrecError('bad_option', `k must be a positive integer, got ${describe(k)}`)
  return { context, unknown: unknown as UnknownPlacement, leaveOut, k }
}

/** A value from outside, for an error message: JSON where it can be (cut at 80 characters), else its type. */
function describe(value: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    // A cycle or a BigInt: its type says enough.
  }
  if (text === undefined) return typeof value
  return text.length > 80 ? `${text.slice(0, 79)}…` : text
}
