// The upload route of client updates, with the body and rate limits and the rejection count it shares
// with the secure-aggregation routes.
import { randomBytes } from 'node:crypto'
import { decodeUpdate, UPDATE_MEDIA_TYPE } from '@fedrec/protocol'
import { Hono, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { hashClientId } from '../aggregator/client-hash.ts'
import type { Aggregator } from '../aggregator/index.ts'
import { HttpError } from '../errors.ts'
import { errorCode } from './errors.ts'
import { createRateLimiter, enforce, limitByAddress } from './rate-limit.ts'

/** Upload limits: per client id (hashed) and per remote address. 0 turns one off. */
export interface UploadLimits {
  maxBodyBytes: number
  /** Updates a minute one client may send (default 12; a client needs one per round plus retries). */
  clientRatePerMinute?: number | undefined
  /** Updates a minute from one remote address (default 600: many shoppers can share one NAT address). */
  ipRatePerMinute?: number | undefined
}

export const DEFAULT_CLIENT_RATE = 12
export const DEFAULT_IP_RATE = 600

/**
 * `POST /updates` with a binary update (UPDATE_MEDIA_TYPE): 200 UpdateAck once it is durable; the same
 * idempotency key again → the original ack with `duplicate: true`. Bodies over `maxBodyBytes` → 413, by
 * Content-Length or while streaming. Too many updates from one address (before the body is read) or from
 * one client (once the header is decoded) → 429 `rate_limited` with Retry-After.
 */
export function updateRoutes(aggregator: Aggregator, limits: UploadLimits): Hono {
  const byClient = createRateLimiter({ perMinute: limits.clientRatePerMinute ?? DEFAULT_CLIENT_RATE })
  // The limiter's keys are hashed with a salt of this process only: they are never stored or logged.
  const salt = randomBytes(16).toString('hex')
  return new Hono().post(
    '/updates',
    countRejections(aggregator),
    limitByAddress(limits.ipRatePerMinute ?? DEFAULT_IP_RATE),
    limitBody(limits.maxBodyBytes),
    async (c) => {
      const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase()
      if (type !== UPDATE_MEDIA_TYPE) {
        throw new HttpError(
          415,
          'unsupported_media_type',
          `updates must be sent as ${UPDATE_MEDIA_TYPE}, got ${JSON.stringify(type ?? null)}`,
        )
      }
      const bytes = new Uint8Array(await c.req.arrayBuffer())
      const update = decodeUpdate(bytes)
      enforce(c, byClient, hashClientId(salt, update.clientId), 'this client')
      return c.json(await aggregator.submit(bytes, update))
    },
  )
}

/**
 * Counts every refused update by its error code for `/v1/status` (`rejections`), whichever middleware or
 * handler refused it: Hono has answered the error (onError) by the time `next()` returns and leaves it in
 * `c.error`.
 */
export function countRejections(aggregator: Aggregator): MiddlewareHandler {
  return async (c, next) => {
    await next()
    if (c.error) aggregator.recordRejection(errorCode(c.error))
  }
}

/** hono's bodyLimit, answering through the shared error handler. */
export function limitBody(maxBodyBytes: number) {
  return bodyLimit({
    maxSize: maxBodyBytes,
    onError: () => {
      throw new HttpError(413, 'body_too_large', `request bodies are limited to ${maxBodyBytes} bytes`)
    },
  })
}
