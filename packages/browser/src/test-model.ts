// Test support only (not exported): puts a model, and optionally a profile, into a local database the way a
// sync leaves them, so browser tests can exercise recommending without a network; and a scripted aggregator
// for tests that sync.
import {
  encodeModel,
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  type Fetch,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  type ItemFeatures,
  type ModelTensor,
  type RoundInfo,
  type WireRequestInit,
  type WireResponse,
} from '@fedrec/protocol'
import { openFedrecDB } from './db.ts'

export interface SeedOptions {
  itemIds: string[]
  embedding: Float32Array
  bias: Float32Array
  version?: number
  userVector?: Float32Array
  /** A feature table (F × dim embedding, F biases) and each item's rows in it: a model format 2. */
  features?: { embedding: Float32Array; bias: Float32Array; itemFeatures: ItemFeatures }
}

export async function seedCache(dbName: string, options: SeedOptions): Promise<void> {
  const { itemIds, embedding, bias, version = 1, userVector, features } = options
  const dim = embedding.length / itemIds.length
  const tensors: ModelTensor[] = [
    { name: ITEM_EMBEDDING, rows: itemIds.length, cols: dim, values: embedding },
    { name: ITEM_BIAS, rows: itemIds.length, cols: 1, values: bias },
  ]
  if (features) {
    const rows = features.itemFeatures.numFeatures
    tensors.push(
      { name: FEATURE_EMBEDDING, rows, cols: dim, values: features.embedding },
      { name: FEATURE_BIAS, rows, cols: 1, values: features.bias },
    )
  }
  const bytes = encodeModel({
    modelVersion: version,
    round: version,
    itemIds,
    tensors,
    ...(features ? { itemFeatures: features.itemFeatures } : {}),
  })
  const db = await openFedrecDB(dbName)
  await db.put('model', {
    key: 'current',
    modelVersion: version,
    etag: `"v${version}"`,
    bytes: bytes.slice().buffer,
  })
  if (userVector) {
    await db.put('profile', {
      key: 'self',
      clientId: '0123456789abcdef0123456789abcdef',
      userVector,
      lastRound: null,
    })
  }
  db.close()
}

export const jsonResponse = (status: number, body: unknown): WireResponse =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

/** The aggregator's answer to an accepted upload. */
export const ack = (round: number, modelVersion: number): WireResponse =>
  jsonResponse(200, {
    accepted: true,
    round,
    modelVersion,
    idempotencyKey: 'k',
    duplicate: false,
    participants: 1,
  })

/**
 * The aggregator's side of a sync whose model is already cached: the open round, and what each upload is
 * answered (`bodies` keeps every upload).
 */
export function scriptedAggregator(info: RoundInfo, uploads: ((body: Uint8Array) => WireResponse | Error)[]) {
  const bodies: Uint8Array[] = []
  const fetch: Fetch = async (url: string, init: WireRequestInit) => {
    if (url.endsWith('/v1/round')) return jsonResponse(200, info)
    if (url.endsWith('/v1/updates') && init.body instanceof Uint8Array) {
      bodies.push(init.body)
      const answer = uploads.shift()?.(init.body) ?? new Error('no answer scripted')
      if (answer instanceof Error) throw answer
      return answer
    }
    throw new Error(`unexpected ${init.method ?? 'GET'} ${url}`)
  }
  return { fetch, bodies }
}
