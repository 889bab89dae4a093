// Test support only (not exported): puts a model, and optionally a profile, into a local database the way a
// sync leaves them, so browser tests can exercise recommending without a network.
import { encodeModel, ITEM_BIAS, ITEM_EMBEDDING } from '@fedrec/protocol'
import { openFedrecDB } from './db.ts'

export interface SeedOptions {
  itemIds: string[]
  embedding: Float32Array
  bias: Float32Array
  version?: number
  userVector?: Float32Array
}

export async function seedCache(dbName: string, options: SeedOptions): Promise<void> {
  const { itemIds, embedding, bias, version = 1, userVector } = options
  const bytes = encodeModel({
    modelVersion: version,
    round: version,
    itemIds,
    tensors: [
      {
        name: ITEM_EMBEDDING,
        rows: itemIds.length,
        cols: embedding.length / itemIds.length,
        values: embedding,
      },
      { name: ITEM_BIAS, rows: itemIds.length, cols: 1, values: bias },
    ],
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
