// GET /v1/model: whole (ETag / If-None-Match) or only what changed since a cached version (a checked patch).
import { MODEL_MEDIA_TYPE, MODEL_PATCH_MEDIA_TYPE } from '../constants.ts'
import { decodeModel } from '../model-codec.ts'
import { applyModelPatch } from '../model-patch.ts'
import { decodeModelPatch } from '../model-patch-codec.ts'
import { ClientError } from './errors.ts'
import type { Meter, Requester } from './request.ts'

/** A model the caller holds: what a patch applies to and what `If-None-Match` names. */
export interface HeldModel {
  modelVersion: number
  etag: string
  /** The model as `GET /v1/model` sent it. */
  bytes: ArrayBuffer | Uint8Array
}

/** The answer of a whole-model request: the held model is current (304), or the model's bytes. */
export type ModelOutcome =
  | { kind: 'current' }
  /** `patched`: rebuilt from a patch (its digest checked) rather than sent whole. */
  | { kind: 'model'; bytes: Uint8Array<ArrayBuffer>; etag: string | null; patched: boolean }

/** What asking for only what changed gave. */
export type ModelSinceOutcome =
  | ModelOutcome
  /** The patch could not be used (`reason` says why): download the whole model. */
  | { kind: 'failed'; reason: unknown }

/**
 * `GET /v1/model?since=<held version>`: the aggregator answers a patch when it has one smaller than the
 * model (or the whole model, or 304). A patch is applied to the held model and its result proved by the
 * SHA-256 it carries. Anything wrong with it — a refused `since`, a damaged or foreign patch, a digest that
 * does not match — is answered `failed`, so the caller downloads the whole model: a patch is an
 * optimisation and never fails a sync. An unreachable or failing aggregator is not a patch problem and
 * still throws. Every byte received counts in `meter`, a failed patch's too.
 */
export async function modelSince(
  request: Requester,
  held: HeldModel,
  meter?: Meter,
): Promise<ModelSinceOutcome> {
  try {
    const res = await request(
      `v1/model?since=${held.modelVersion}`,
      { headers: { 'if-none-match': held.etag }, cache: 'no-store' },
      meter,
    )
    if (res.status === 304) return { kind: 'current' }
    const body = await readBytes(res, meter)
    const type = res.headers.get('content-type') ?? ''
    const etag = res.headers.get('etag')
    // The patch type first: the model's media type is a prefix of it.
    if (type.startsWith(MODEL_PATCH_MEDIA_TYPE)) {
      const patch = decodeModelPatch(body)
      const { bytes } = await applyModelPatch(decodeModel(new Uint8Array(held.bytes)), patch)
      return { kind: 'model', bytes, etag, patched: true }
    }
    // The server found the whole model the better answer (the patch would not be smaller, or its log does
    // not reach back to our version).
    if (type.startsWith(MODEL_MEDIA_TYPE)) return { kind: 'model', bytes: body, etag, patched: false }
    throw new Error(`GET /v1/model?since=${held.modelVersion} answered ${JSON.stringify(type)}`)
  } catch (err) {
    if (err instanceof ClientError && err.code !== 'rejected') throw err
    return { kind: 'failed', reason: err }
  }
}

/** `GET /v1/model`, naming the held model's ETag if any: 304 answers `current`. */
export async function wholeModel(
  request: Requester,
  held: HeldModel | null,
  meter?: Meter,
): Promise<ModelOutcome> {
  const headers: Record<string, string> = held ? { 'if-none-match': held.etag } : {}
  const res = await request('v1/model', { headers, cache: 'no-store' }, meter)
  if (res.status === 304 && held) return { kind: 'current' }
  const type = res.headers.get('content-type') ?? ''
  if (!type.startsWith(MODEL_MEDIA_TYPE) || type.startsWith(MODEL_PATCH_MEDIA_TYPE)) {
    await res.body?.cancel()
    throw new ClientError(
      'rejected',
      `GET /v1/model answered ${JSON.stringify(type)}, not ${MODEL_MEDIA_TYPE}`,
    )
  }
  return { kind: 'model', bytes: await readBytes(res, meter), etag: res.headers.get('etag'), patched: false }
}

async function readBytes(
  res: { arrayBuffer(): Promise<ArrayBuffer> },
  meter?: Meter,
): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = new Uint8Array(await res.arrayBuffer())
  if (meter) meter.down += bytes.byteLength
  return bytes
}
