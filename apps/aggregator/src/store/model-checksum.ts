// Integrity of the stored model: a checksum and a finiteness check, so a damaged model is refused at
// start, not served.
import { createHash } from 'node:crypto'
import type { StoredModel } from './model.ts'
import { StoreCorruptError } from './rows.ts'

/**
 * SHA-256 (hex) of everything a model download is made of: version, round, dim, the catalogue and both
 * tensors' bytes. Stored with the model in the transaction that writes it, so that bytes damaged on disk
 * afterwards (a bad sector, a hand edit, a restore gone wrong) are caught at the next start instead of being
 * served under the unchanged ETag. SQLite's own checks cover its pages' structure, not a blob's content.
 * @example store.saveModel(model) // writes modelChecksum(model) beside it
 */
export function modelChecksum(model: StoredModel): string {
  const hash = createHash('sha256')
  const header = new Uint32Array([model.version, model.round, model.dim, model.itemIds.length])
  hash.update(new Uint8Array(header.buffer))
  // Lengths first, so that ids cannot be shifted from one into the next without changing the digest.
  for (const id of model.itemIds) hash.update(`${id.length}:${id}\n`)
  for (const values of [model.itemEmbedding, model.itemBias])
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
  // Item features (schema version 9) after everything else, so an id-only model's digest is what it was.
  const f = model.features
  if (f) {
    hash.update(new Uint8Array(new Uint32Array([f.table.rows]).buffer))
    for (const values of [f.table.embedding, f.table.bias, f.items.offsets, f.items.rows])
      hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
  }
  return hash.digest('hex')
}

/**
 * Refuses a model holding NaN or ±Infinity: such a model cannot be encoded for download, so serving it would
 * answer every client with an error while uploads were still being acknowledged.
 * @throws StoreCorruptError naming the tensor and the first bad index
 */
export function checkModelFinite(model: Pick<StoredModel, 'itemEmbedding' | 'itemBias' | 'features'>): void {
  for (const [name, values] of [
    ['model.item_embedding', model.itemEmbedding],
    ['model.item_bias', model.itemBias],
    ['model.feature_embedding', model.features?.table.embedding ?? EMPTY],
    ['model.feature_bias', model.features?.table.bias ?? EMPTY],
  ] as const) {
    const bad = values.findIndex((v) => !Number.isFinite(v))
    if (bad >= 0) throw new StoreCorruptError(`${name}: value ${values[bad]} at index ${bad} is not finite`)
  }
}

const EMPTY = new Float32Array(0)
