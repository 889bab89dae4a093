// The global model on this device: in memory, in IndexedDB, patched from the cached one, or downloaded whole.
import { itemTable, type SharedWeights, sharedWeightsFromSnapshot } from '@fedrec/core/client'
import { decodeModel, type ItemFeatures, type Meter, type ProtocolClient } from '@fedrec/protocol'
import createDebug from 'debug'
import { type FedrecDatabase, isStoredModel, type StoredModel } from '../db.ts'
import { FedrecError } from '../errors.ts'
import { persist } from './persist.ts'
import { shopView } from './shop-view.ts'

const log = createDebug('fedrec:browser:model')

/** The current model, decoded. */
export interface LoadedModel {
  version: number
  /** The model's tensors as trained: id rows and, with item features, the feature table. */
  weights: SharedWeights
  /** Each item's feature rows, when the model has item features (model format 2). */
  itemFeatures?: ItemFeatures
  /**
   * What scoring reads: every item's vector and bias with its pooled features added (core's `itemTable`), so
   * an item nobody has trained yet — a product added to the catalogue since the last round — is scored by
   * its features. The same arrays as `weights` for an id-only model.
   */
  scoring: SharedWeights
  /** The items' ids as the shop uses them (with a `shop`, without its `<shop>:` prefix). */
  itemIds: string[]
  rowOf: Map<string, number>
  /**
   * With a `shop`: row i here is row `sharedRows[i]` of the model several shops share, which holds other
   * shops' items too (see ./shop-view.ts). Absent: the rows are the model's.
   */
  sharedRows?: Uint32Array
}

/** See {@link createModelCache}. */
export interface ModelCache {
  /** The model in memory, if any. */
  current(): LoadedModel | null
  /** Makes the given version current (see {@link createModelCache}); the bytes received count in `meter`. */
  ensure(version: number | 'latest', meter?: Meter): Promise<LoadedModel>
  /** The model to score with: in memory, else the cached one, else whatever is current. */
  ready(): Promise<LoadedModel>
  /** The model on this device only: in memory, else the cached one, else null; never the network. */
  local(): Promise<LoadedModel | null>
  /** Forgets the in-memory copies (IndexedDB is the caller's to clear). */
  forget(): void
}

/**
 * The model of one device: from memory, from IndexedDB, as a patch on an older cached model (only what
 * changed), or downloaded whole. `onChange` hears of every new model in memory (to drop its scorer). With a
 * `shop`, the model in memory is that shop's part of the shared model (./shop-view.ts); the cache keeps the
 * whole model's bytes, which patches apply to.
 * @example const models = createModelCache(db, client, () => guard.dropScorer())
 */
export function createModelCache(
  db: FedrecDatabase,
  client: ProtocolClient,
  onChange: () => void,
  shop?: string,
): ModelCache {
  let model: LoadedModel | null = null
  /** The encoded form of the cached model (see `cached`). */
  let stored: StoredModel | null = null

  /**
   * The encoded model cached on this device: the copy this worker last stored or read, else IndexedDB's.
   * Keeping it in memory spares a read of the whole model (megabytes at 50,000 items) from IndexedDB on
   * every new version, when only a patch comes over the wire.
   */
  async function cached(): Promise<StoredModel | null> {
    if (stored) return stored
    const record: unknown = await db.get('model', 'current')
    stored = isStoredModel(record) ? record : null
    return stored
  }

  /** Forgets the cached model, in memory and in IndexedDB. */
  async function dropCached(): Promise<void> {
    stored = null
    await persist('the model', db.delete('model', 'current'))
  }

  function load(bytes: Uint8Array): LoadedModel {
    const snapshot = decodeModel(bytes)
    const shared = sharedWeightsFromSnapshot(snapshot)
    const view = shop === undefined ? null : shopView(shared, snapshot.itemFeatures, snapshot.itemIds, shop)
    const weights = view ? view.weights : shared
    const itemFeatures = view ? view.itemFeatures : snapshot.itemFeatures
    const itemIds = view ? view.itemIds : snapshot.itemIds
    // Composed once per model rather than per call: 5,000 items × 7 features × d is a few million adds.
    const scoring = itemTable(weights, itemFeatures)
    const rowOf = new Map<string, number>()
    for (const [row, id] of itemIds.entries()) rowOf.set(id, row)
    onChange()
    model = {
      version: snapshot.modelVersion,
      weights,
      scoring,
      itemIds,
      rowOf,
      ...(itemFeatures ? { itemFeatures } : {}),
      ...(view ? { sharedRows: view.sharedRows } : {}),
    }
    log('model v%d: %d items × %d', snapshot.modelVersion, weights.numItems, weights.dim)
    return model
  }

  /** Makes an encoded model from the network current and caches it in IndexedDB under its version and ETag. */
  async function keep(bytes: Uint8Array<ArrayBuffer>, etagHeader: string | null): Promise<LoadedModel> {
    let loaded: LoadedModel
    try {
      loaded = load(bytes)
    } catch (cause) {
      throw new FedrecError(
        'corrupt_model',
        `the model the aggregator sent does not decode (${cause instanceof Error ? cause.message : String(cause)}): damaged on the way or in the aggregator's store; nothing was trained on it, retry later`,
        { cause },
      )
    }
    const record: StoredModel = {
      key: 'current',
      modelVersion: loaded.version,
      etag: etagHeader ?? `"v${loaded.version}"`,
      bytes: bytes.slice().buffer,
    }
    await persist('the model', db.put('model', record))
    stored = record
    return loaded
  }

  async function ensure(version: number | 'latest', meter?: Meter): Promise<LoadedModel> {
    if (model && model.version === version) return model
    const held = await cached()
    if (held && held.modelVersion === version) {
      try {
        return load(new Uint8Array(held.bytes))
      } catch (err) {
        // Damaged on the device (its checksum fails): forget it before downloading, or the download would
        // send its ETag, hear 304 and reuse the damaged bytes on every sync.
        log('cached model v%d unreadable (%o); dropping it and downloading the whole model', version, err)
        await dropCached()
        return ensure(version, meter)
      }
    }
    if (held && typeof version === 'number' && held.modelVersion < version) {
      const got = await client.modelSince(held, meter)
      if (got.kind === 'current') return load(new Uint8Array(held.bytes))
      if (got.kind === 'model') {
        if (got.patched) log('model v%d from v%d by a patch', version, held.modelVersion)
        return keep(got.bytes, got.etag)
      }
      log('no patch from model v%d (%o); downloading the whole model', held.modelVersion, got.reason)
    }
    const got = await client.model(held, meter)
    if (got.kind === 'current' && held) return load(new Uint8Array(held.bytes))
    if (got.kind === 'current') throw new FedrecError('internal', 'GET /v1/model answered 304 to no ETag')
    return keep(got.bytes, got.etag)
  }

  return {
    current: () => model,
    ensure,
    async ready() {
      if (model) return model
      // No sync yet in this worker: the cached model if there is one, else whatever is current.
      const held = await cached()
      return ensure(held ? held.modelVersion : 'latest')
    },
    async local() {
      if (model) return model
      const held = await cached()
      // Loaded by another call while this one read IndexedDB: decoding again would drop its scorer.
      if (model) return model
      if (!held) return null
      try {
        return load(new Uint8Array(held.bytes))
      } catch (err) {
        // Damaged on the device: no order from it; the next sync drops it and downloads a whole model.
        log('cached model v%d unreadable (%o); not ranking with it', held.modelVersion, err)
        return null
      }
    },
    forget() {
      onChange()
      model = null
      stored = null
    },
  }
}
