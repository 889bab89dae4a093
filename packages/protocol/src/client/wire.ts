// The slice of `fetch` the protocol client uses, typed here so the package needs neither the DOM nor Node typings.

import { platform } from '../platform.ts'

/** What the client sends: every body is a JSON string or wire bytes. */
export interface WireRequestInit {
  method?: string
  headers?: Record<string, string>
  body?: string | Uint8Array<ArrayBuffer>
  /** Browsers: never answer from the HTTP cache (rounds and models change under the same URL). */
  cache?: 'no-store'
}

/** What the client reads of an answer; the platform's `Response` has all of it. */
export interface WireResponse {
  readonly status: number
  readonly ok: boolean
  readonly headers: { get(name: string): string | null }
  readonly body: { cancel(): Promise<void> } | null
  text(): Promise<string>
  arrayBuffer(): Promise<ArrayBuffer>
}

/**
 * A `fetch`: the platform's, or a test's. Generic in its answer so a caller that passes the platform's
 * `fetch` gets its full `Response` back from the raw `send`.
 */
export type Fetch<R extends WireResponse = WireResponse> = (url: string, init: WireRequestInit) => Promise<R>

interface TimerPlatform {
  fetch: Fetch
  setTimeout(callback: () => void, ms: number): unknown
}
const timers = globalThis as unknown as TimerPlatform

/** The platform's fetch, called through `globalThis` (an unbound `fetch` throws "Illegal invocation" in browsers). */
export const platformFetch: Fetch = (url, init) => timers.fetch(url, init)

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => timers.setTimeout(resolve, ms))

const encoder = new platform.TextEncoder()

/** Bytes of a request or answer body, as it goes on the wire. */
export function bodyBytes(body: string | Uint8Array | undefined): number {
  if (body === undefined) return 0
  return typeof body === 'string' ? encoder.encode(body).byteLength : body.byteLength
}
