// One request of the protocol client: the base URL, the retry policy, and the bytes it moved.
import { type FetchWithRetryOptions, fetchWithRetry } from './retry.ts'
import { bodyBytes, type WireRequestInit, type WireResponse } from './wire.ts'

/**
 * Bytes an exchange moved, request and answer bodies, added up by every call given it. One per sync round,
 * so concurrent work on the same client does not count into it.
 */
export interface Meter {
  up: number
  down: number
}

/** A meter at zero. @example const meter = newMeter(); await client.roundInfo(meter); meter.down */
export const newMeter = (): Meter => ({ up: 0, down: 0 })

/** A request to a path of the API through the retry policy: a 2xx or 304, else a typed ClientError. */
export type Requester = (path: string, init?: WireRequestInit, meter?: Meter) => Promise<WireResponse>

/**
 * Joins a path of the API to the base URL (one trailing slash), e.g. `v1/round`.
 * @example apiUrl('http://agg.example/', 'v1/round') // 'http://agg.example/v1/round'
 */
export const apiUrl = (base: string, path: string): string =>
  `${base.endsWith('/') ? base : `${base}/`}${path.replace(/^\//, '')}`

export function createRequester(baseUrl: string, options: FetchWithRetryOptions): Requester {
  return async (path, init = {}, meter) => {
    if (meter) meter.up += bodyBytes(init.body)
    return fetchWithRetry(apiUrl(baseUrl, path), init, options)
  }
}

/** An answer's JSON as `unknown` (for a validator), its bytes counted. */
export async function readJson(res: WireResponse, meter?: Meter): Promise<unknown> {
  const text = await res.text()
  if (meter) meter.down += bodyBytes(text)
  return JSON.parse(text)
}
