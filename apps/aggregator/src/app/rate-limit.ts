// Rate limiting of uploads and reports, by client and by remote address, so no one floods the aggregator.
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context, MiddlewareHandler } from 'hono'
import { HttpError } from '../errors.ts'

/**
 * Token buckets by key: each key may spend `burst` requests at once and regains `perMinute` a minute.
 *
 * Why not hono-rate-limiter: the per-client key is the client id inside the binary update, known only once
 * the (size-limited) body is decoded, in the handler rather than in a middleware ahead of it; a bucket that
 * the handler asks directly is simpler than a store shared between two middlewares.
 */
export interface RateLimiter {
  /** Spends one token of `key`: `{ ok: true }`, or how long until the next token. */
  take(key: string): { ok: true } | { ok: false; retryAfterSeconds: number }
  /** Keys currently tracked (bounded by `maxKeys`). */
  readonly size: number
}

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Tokens regained per minute; 0 turns the limiter off. */
  perMinute: number
  /** Largest number of requests at once (default: `perMinute`, at least 1). */
  burst?: number
  /**
   * Most keys kept (default 100,000). A full bucket carries no information and is dropped when the map is
   * full; if every bucket is in use the oldest goes, so hostile distinct keys cannot grow memory.
   */
  maxKeys?: number
  now?: () => number
}

/**
 * @example
 * const limiter = createRateLimiter({ perMinute: 12 })
 * const verdict = limiter.take(clientHash)
 * if (!verdict.ok) c.header('Retry-After', String(verdict.retryAfterSeconds))
 */
export function createRateLimiter({
  perMinute,
  burst = Math.max(1, perMinute),
  maxKeys = 100_000,
  now = Date.now,
}: RateLimiterOptions): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>()
  const perMs = perMinute / 60_000
  const refill = (b: { tokens: number; at: number }, t: number): void => {
    b.tokens = Math.min(burst, b.tokens + (t - b.at) * perMs)
    b.at = t
  }
  const makeRoom = (t: number): void => {
    for (const [key, b] of buckets) {
      refill(b, t)
      if (b.tokens >= burst) buckets.delete(key)
    }
    // Still nearly full: forget the oldest tenth (Map keeps insertion order), so the sweep above runs
    // once per many new keys, not on every one.
    while (buckets.size >= maxKeys * 0.9) {
      const oldest = buckets.keys().next()
      if (oldest.done) break
      buckets.delete(oldest.value)
    }
  }
  return {
    take(key) {
      if (perMinute <= 0) return { ok: true }
      const t = now()
      let b = buckets.get(key)
      if (b) refill(b, t)
      else {
        if (buckets.size >= maxKeys) makeRoom(t)
        b = { tokens: burst, at: t }
        buckets.set(key, b)
      }
      if (b.tokens >= 1) {
        b.tokens -= 1
        return { ok: true }
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000)) }
    },
    get size() {
      return buckets.size
    },
  }
}

/**
 * Spends one token of `key`; out of tokens → 429 `rate_limited` with Retry-After (through the shared error
 * handler, so it is counted and answered like every refusal).
 * @example enforce(c, byClient, clientHash, 'this client')
 */
export function enforce(c: Context, limiter: RateLimiter, key: string, who: string): void {
  const verdict = limiter.take(key)
  if (verdict.ok) return
  c.header('Retry-After', String(verdict.retryAfterSeconds))
  throw new HttpError(
    429,
    'rate_limited',
    `too many requests from ${who}; retry after ${verdict.retryAfterSeconds} s (Retry-After)`,
  )
}

/**
 * A middleware limiting requests per remote address, before the body is read. 0 turns it off.
 * @example app.post('/evaluations', limitByAddress(600), handler)
 */
export function limitByAddress(perMinute: number): MiddlewareHandler {
  const limiter = createRateLimiter({ perMinute })
  return async (c, next) => {
    enforce(c, limiter, remoteAddress(c), 'this address')
    await next()
  }
}

/** The peer's address; requests without a socket (tests calling `app.request`) share one key. */
function remoteAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'local'
  }
}
