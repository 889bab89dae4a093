// Model downloads that send only what changed: the change log written when a round closes, and the patches
// served from it to clients a few versions behind.
import { createHash } from 'node:crypto'
import {
  changedRows,
  createModelPatch,
  encodeModelPatch,
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  type ModelSnapshot,
} from '@fedrec/protocol'
import createDebug from 'debug'
import type { AggregatorStore, ModelChanges, StoredModel } from '../store/index.ts'

const log = createDebug('fedrec:aggregator:model')

/** Patches kept per model version: clients are mostly one or two versions behind. */
const CACHE_LIMIT = 4

/**
 * The rows `next` changed from `prev` (values compared bit for bit, plus the rows of added items), and with
 * item features the changed rows of the feature table, as the round-closing transaction records them.
 * @example store.insertModelChanges(modelChanges(model, next))
 */
export function modelChanges(prev: StoredModel, next: StoredModel): ModelChanges {
  const tables = (m: StoredModel) => ({
    numItems: m.itemIds.length,
    tensors: [
      { name: ITEM_EMBEDDING, cols: m.dim, values: m.itemEmbedding },
      { name: ITEM_BIAS, cols: 1, values: m.itemBias },
    ],
  })
  const changes: ModelChanges = {
    version: next.version,
    baseItems: prev.itemIds.length,
    rows: changedRows(tables(prev), tables(next)),
  }
  if (next.features && prev.features) {
    const featureTables = (m: StoredModel) => ({
      numItems: m.features!.table.rows,
      tensors: [
        { name: FEATURE_EMBEDDING, cols: m.dim, values: m.features!.table.embedding },
        { name: FEATURE_BIAS, cols: 1, values: m.features!.table.bias },
      ],
    })
    changes.featureRows = changedRows(featureTables(prev), featureTables(next))
  }
  return changes
}

/** The current model as `GET /v1/model` sends it. */
export interface EncodedModel {
  version: number
  bytes: Uint8Array
}

/** Builds (and keeps a few of) the patches from older versions to the current model. */
export interface ModelPatches {
  /**
   * The encoded patch from version `since` to `model`, or undefined when the change log does not reach back
   * to `since` or the patch would not be smaller than the whole model.
   */
  since(since: number, model: StoredModel, encoded: EncodedModel): Promise<Uint8Array | undefined>
}

/**
 * Patches for `GET /v1/model?since=`, from the change log of the store. The union of the changed rows of
 * versions since + 1 … current, with their current values: what changed in between no longer matters.
 * @example const patches = createModelPatches(store); await patches.since(6, model, encodedModel())
 */
export function createModelPatches(store: AggregatorStore): ModelPatches {
  let cachedVersion = -1
  let digest: Uint8Array | undefined
  // `null`: the whole model is the better answer for that `since`.
  const cache = new Map<number, Uint8Array | null>()

  const build = async (
    since: number,
    model: StoredModel,
    encoded: EncodedModel,
  ): Promise<Uint8Array | null> => {
    const numItems = model.itemIds.length
    const numFeatures = model.features?.table.rows
    let baseItems = numItems
    let rowIds: Uint32Array = new Uint32Array(0)
    let featureRowIds: Uint32Array | undefined = numFeatures === undefined ? undefined : new Uint32Array(0)
    if (since < model.version) {
      const log = (await store.modelChanges(since)).filter((c) => c.version <= model.version)
      // Versions are unique, ascending and above `since`: as many as versions in between means no gap.
      if (log.length !== model.version - since) return null
      // A version recorded without its feature rows cannot be patched from: the whole model is the answer.
      if (numFeatures !== undefined && log.some((c) => c.featureRows === undefined)) return null
      baseItems = log[0]!.baseItems
      rowIds = union(
        log.map((c) => c.rows),
        numItems,
      )
      if (numFeatures !== undefined)
        featureRowIds = union(
          log.map((c) => c.featureRows!),
          numFeatures,
        )
      // 4 bytes of row id and 4 per float for each row, against the whole model's bytes.
      const rows = rowIds.length + (featureRowIds?.length ?? 0)
      if (rows * 4 * (model.dim + 2) >= encoded.bytes.byteLength) return null
    }
    digest ??= new Uint8Array(createHash('sha256').update(encoded.bytes).digest())
    const bytes = encodeModelPatch(
      createModelPatch(snapshotOf(model), {
        fromVersion: since,
        baseItemCount: baseItems,
        rowIds,
        ...(featureRowIds ? { featureRowIds } : {}),
        digest,
      }),
    )
    return bytes.byteLength < encoded.bytes.byteLength ? bytes : null
  }

  return {
    async since(since, model, encoded) {
      if (cachedVersion !== model.version) {
        cache.clear()
        digest = undefined
        cachedVersion = model.version
      }
      let bytes = cache.get(since)
      if (bytes === undefined) {
        bytes = await build(since, model, encoded)
        // A round may have closed while the change log was read: this patch is still right for `model`,
        // but the cache now belongs to the newer version.
        if (cachedVersion !== model.version) return bytes ?? undefined
        if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!)
        cache.set(since, bytes)
        log(
          'model v%d since v%d: %s',
          model.version,
          since,
          bytes ? `patch of ${bytes.byteLength} bytes` : 'the whole model',
        )
      }
      return bytes ?? undefined
    },
  }
}

/**
 * The model as `GET /v1/model` encodes it: the item tensors, and with item features each item's feature rows
 * and the feature tensors (model format 2).
 * @example encodeModel(snapshotOf(s.model))
 */
export function snapshotOf(model: StoredModel): ModelSnapshot {
  const rows = model.itemIds.length
  const snapshot: ModelSnapshot = {
    modelVersion: model.version,
    round: model.round,
    itemIds: model.itemIds,
    tensors: [
      { name: ITEM_EMBEDDING, rows, cols: model.dim, values: model.itemEmbedding },
      { name: ITEM_BIAS, rows, cols: 1, values: model.itemBias },
    ],
  }
  const f = model.features
  if (f) {
    snapshot.itemFeatures = f.items
    snapshot.tensors.push(
      { name: FEATURE_EMBEDDING, rows: f.table.rows, cols: model.dim, values: f.table.embedding },
      { name: FEATURE_BIAS, rows: f.table.rows, cols: 1, values: f.table.bias },
    )
  }
  return snapshot
}

/** The ascending union of ascending row lists, each row below `rows`. */
function union(lists: readonly Uint32Array[], rows: number): Uint32Array {
  const changed = new Uint8Array(rows)
  for (const list of lists) for (const row of list) changed[row] = 1
  const out = new Uint32Array(changed.reduce((n, c) => n + c, 0))
  let at = 0
  for (let row = 0; row < rows; row++) if (changed[row]) out[at++] = row
  return out
}
