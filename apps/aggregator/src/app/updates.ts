import { UPDATE_MEDIA_TYPE } from '@fedrec/protocol'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { Aggregator } from '../aggregator/index.ts'
import { HttpError } from '../errors.ts'

/**
 * `POST /updates` with a binary update (UPDATE_MEDIA_TYPE): 200 UpdateAck once it is durable; the same
 * idempotency key again → the original ack with `duplicate: true`. Bodies over `maxBodyBytes` → 413, by
 * Content-Length or while streaming.
 */
export function updateRoutes(aggregator: Aggregator, { maxBodyBytes }: { maxBodyBytes: number }): Hono {
  return new Hono().post('/updates', limitBody(maxBodyBytes), async (c) => {
    const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase()
    if (type !== UPDATE_MEDIA_TYPE) {
      throw new HttpError(
        415,
        'unsupported_media_type',
        `updates must be sent as ${UPDATE_MEDIA_TYPE}, got ${JSON.stringify(type ?? null)}`,
      )
    }
    const bytes = new Uint8Array(await c.req.arrayBuffer())
    return c.json(aggregator.submit(bytes))
  })
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
