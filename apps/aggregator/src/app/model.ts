// The model download route: the whole model or a patch, revalidated by ETag.
import { MODEL_MEDIA_TYPE, MODEL_PATCH_MEDIA_TYPE } from '@fedrec/protocol'
import { Hono } from 'hono'
import { type Aggregator, AggregatorError } from '../aggregator/index.ts'

/**
 * `GET /model` → the binary model (MODEL_MEDIA_TYPE) with `ETag: "v<version>"`; a matching
 * `If-None-Match` gets 304 and no body. `no-cache`: clients may keep it but must revalidate, which costs a
 * 304 while the version stands.
 *
 * `GET /model?since=<version>` (the version the client holds) → the same, except that the body is a model
 * patch (MODEL_PATCH_MEDIA_TYPE) from that version when the change log covers it and the patch is smaller;
 * the content type says which. A `since` that is not a version up to the current one is 400 `bad_since`.
 */
export function modelRoutes(aggregator: Aggregator): Hono {
  return new Hono().get('/model', async (c) => {
    const sinceParam = c.req.query('since')
    const since = sinceParam === undefined ? undefined : parseSince(sinceParam)
    // Replicas: the ETag names the version the store publishes, not the one this process last saw.
    await aggregator.sync()
    const { version, bytes } = aggregator.model()
    const etag = `"v${version}"`
    c.header('ETag', etag)
    c.header('Cache-Control', 'no-cache')
    if (matches(c.req.header('if-none-match'), etag)) return c.body(null, 304)
    const patch = since === undefined ? undefined : await aggregator.modelPatch(since)
    if (patch) {
      c.header('Content-Type', MODEL_PATCH_MEDIA_TYPE)
      return c.body(patch.bytes as Uint8Array<ArrayBuffer>, 200)
    }
    c.header('Content-Type', MODEL_MEDIA_TYPE)
    // encodeModel allocates a plain ArrayBuffer; the cast only narrows the typing of ArrayBufferLike.
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200)
  })
}

/** A model version: digits only (no sign, no fraction, no exponent), as a safe integer. */
function parseSince(raw: string): number {
  const n = Number(raw)
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(n)) {
    throw new AggregatorError(
      'bad_since',
      `since must be a model version (a whole number ≥ 0), got ${JSON.stringify(raw.slice(0, 40))}`,
    )
  }
  return n
}

/** RFC 9110 If-None-Match: `*` or a list of entity tags, compared weakly. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false
  return header.split(',').some((raw) => {
    const tag = raw.trim()
    return tag === '*' || tag.replace(/^W\//, '') === etag
  })
}
