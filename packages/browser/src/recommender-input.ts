// The checks of what a shop passes to the recommender: options, events and suggestion requests.
import { FedrecError } from './errors.ts'
import { isEventType, isLeaveOut, type TrackEvent } from './events.ts'
import type { SuggestMode, SuggestRequest } from './suggest.ts'

const SUGGEST_MODES: readonly SuggestMode[] = ['for-you', 'similar', 'popular']

/** The aggregator's base URL, absolute and with a trailing slash. @example parseEndpoint('/agg') // 'https://shop.example/agg/' */
export function parseEndpoint(endpoint: unknown): string {
  if (typeof endpoint !== 'string') throw new FedrecError('bad_option', 'endpoint must be a URL string')
  let url: URL
  try {
    url = new URL(endpoint, globalThis.location?.href)
  } catch (cause) {
    throw new FedrecError('bad_option', `endpoint ${JSON.stringify(endpoint)} is not a URL`, { cause })
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  return url.toString()
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
