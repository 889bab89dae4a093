import {
  applyModelPatch,
  decodeModel,
  decodeModelPatch,
  MODEL_MEDIA_TYPE,
  MODEL_PATCH_MEDIA_TYPE,
} from '@fedrec/protocol'
import createDebug from 'debug'
import type { StoredModel } from './db.ts'
import { FedrecError } from './errors.ts'
import { fetchWithRetry, type RetryPolicy } from './net.ts'

const log = createDebug('fedrec:browser:model')

/** What asking for only what changed gave. `bytesDown` counts every byte received, a failed patch's too. */
export type ModelSinceOutcome =
  /** 304: the cached model is the current one. */
  | { kind: 'current'; bytesDown: number }
  /** The current model, rebuilt from a patch (its digest checked) or sent whole by the server. */
  | {
      kind: 'model'
      bytes: Uint8Array<ArrayBuffer>
      etag: string | null
      patched: boolean
      bytesDown: number
    }
  /** The patch could not be used (logged): download the whole model. */
  | { kind: 'failed'; bytesDown: number }

/**
 * `GET /v1/model?since=<cached version>`: the aggregator answers a patch when it has one smaller than the
 * model (or the whole model, or 304). A patch is applied to the cached model and its result proved by the
 * SHA-256 it carries. Anything wrong with it — a refused `since`, a damaged or foreign patch, a digest that
 * does not match — is logged and answered `failed`, so the caller downloads the whole model: a patch is an
 * optimisation and never fails a sync. An unreachable aggregator is not a patch problem and still throws.
 * @example const got = await fetchModelSince(url, cached, DEFAULT_RETRY)
 */
export async function fetchModelSince(
  modelUrl: string,
  cached: StoredModel,
  retry: RetryPolicy,
): Promise<ModelSinceOutcome> {
  const url = new URL(modelUrl)
  url.searchParams.set('since', String(cached.modelVersion))
  let bytesDown = 0
  try {
    const res = await fetchWithRetry(
      url.toString(),
      { headers: { 'if-none-match': cached.etag }, cache: 'no-store' },
      retry,
    )
    if (res.status === 304) return { kind: 'current', bytesDown }
    const body = new Uint8Array(await res.arrayBuffer())
    bytesDown = body.byteLength
    const type = res.headers.get('content-type') ?? ''
    // The patch type first: the model's media type is a prefix of it.
    if (type.startsWith(MODEL_PATCH_MEDIA_TYPE)) {
      const patch = decodeModelPatch(body)
      const { bytes } = await applyModelPatch(decodeModel(new Uint8Array(cached.bytes)), patch)
      log(
        'model v%d from v%d by a patch of %d bytes (%d rows, %d new items; the model is %d bytes)',
        patch.modelVersion,
        patch.fromVersion,
        body.byteLength,
        patch.rowIds.length,
        patch.addedItemIds.length,
        bytes.byteLength,
      )
      return { kind: 'model', bytes, etag: res.headers.get('etag'), patched: true, bytesDown }
    }
    if (type.startsWith(MODEL_MEDIA_TYPE)) {
      // The server found the whole model the better answer (the patch would not be smaller, or its log does
      // not reach back to our version).
      return { kind: 'model', bytes: body, etag: res.headers.get('etag'), patched: false, bytesDown }
    }
    throw new Error(`GET ${url.pathname}${url.search} answered ${JSON.stringify(type)}`)
  } catch (err) {
    if (err instanceof FedrecError && ['network', 'server_error', 'storage'].includes(err.code)) throw err
    log('no patch from model v%d (%o); downloading the whole model', cached.modelVersion, err)
    return { kind: 'failed', bytesDown }
  }
}
