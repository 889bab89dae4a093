import { MODEL_MEDIA_TYPE } from '@fedrec/protocol'
import { Hono } from 'hono'
import type { Aggregator } from '../aggregator/index.ts'

/**
 * `GET /model` → the binary model (MODEL_MEDIA_TYPE) with `ETag: "v<version>"`; a matching
 * `If-None-Match` gets 304 and no body. `no-cache`: clients may keep it but must revalidate, which costs a
 * 304 while the version stands.
 */
export function modelRoutes(aggregator: Aggregator): Hono {
  return new Hono().get('/model', (c) => {
    const { version, bytes } = aggregator.model()
    const etag = `"v${version}"`
    c.header('ETag', etag)
    c.header('Cache-Control', 'no-cache')
    if (matches(c.req.header('if-none-match'), etag)) return c.body(null, 304)
    c.header('Content-Type', MODEL_MEDIA_TYPE)
    // encodeModel allocates a plain ArrayBuffer; the cast only narrows the typing of ArrayBufferLike.
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200)
  })
}

/** RFC 9110 If-None-Match: `*` or a list of entity tags, compared weakly. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false
  return header.split(',').some((raw) => {
    const tag = raw.trim()
    return tag === '*' || tag.replace(/^W\//, '') === etag
  })
}
