// Model patches beyond their bytes: building one from two models on the server and rebuilding the exact
// model from one on the device.
import { ProtocolError } from './errors.ts'
import { isFeatureTensor } from './item-features-codec.ts'
import { encodeModel } from './model-codec.ts'
import { checkModelPatch } from './model-patch-codec.ts'
import { platform } from './platform.ts'
import type { ItemFeatures, ModelPatch, ModelSnapshot, ModelTensor } from './types.ts'

// Why the digest is a SHA-256 of the encoded full model (FRMD bytes), not of the tensors: the encoding is
// deterministic, so equal digests mean the rebuilt model is byte for byte what `GET /v1/model` would have
// sent — ids, version, round and every float bit (a -0 where the server has +0 would show) — and the
// client caches exactly those bytes, as after a full download. SHA-256 rather than another CRC-32: the
// CRC guards against damage in transit; what the digest must catch is a wrong base that happens to carry
// the same version number (a store recreated from scratch counts versions from 0 again), and 32 bits
// leave that to chance once in four billion rather than never. Both runtimes hash natively (WebCrypto).

/**
 * SHA-256 of an encoded model (what `GET /v1/model` answers): the digest a model patch carries.
 * @example const digest = await modelDigest(encodeModel(snapshot))
 */
export async function modelDigest(encodedModel: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await platform.crypto.subtle.digest('SHA-256', encodedModel))
}

/** The item tensors of a model, as `changedRows` compares them. */
export interface ModelTables {
  numItems: number
  tensors: ReadonlyArray<Pick<ModelTensor, 'name' | 'cols' | 'values'>>
}

/**
 * The rows that differ between two models whose catalogue grew from `before.numItems` to `after.numItems`:
 * rows whose values differ in any tensor, compared bit for bit (any server optimizer may move any row; a
 * value-wise compare would call -0 and +0 equal although their bytes — and so the digest — differ), and
 * every added row. Ascending.
 * @throws ProtocolError `shape_mismatch` when the two do not have the same tensors
 * @example const rows = changedRows({ numItems: 100, tensors: old }, { numItems: 104, tensors: next })
 */
export function changedRows(before: ModelTables, after: ModelTables): Uint32Array {
  if (after.numItems < before.numItems) {
    throw new ProtocolError(
      'shape_mismatch',
      `the catalogue shrank from ${before.numItems} to ${after.numItems} items`,
    )
  }
  const changed = new Uint8Array(after.numItems)
  changed.fill(1, before.numItems)
  if (before.tensors.length !== after.tensors.length)
    throw new ProtocolError('shape_mismatch', 'the two models do not have the same tensors')
  for (const a of after.tensors) {
    const b = before.tensors.find((t) => t.name === a.name)
    if (!b || b.cols !== a.cols)
      throw new ProtocolError('shape_mismatch', `${a.name}: not in the earlier model with ${a.cols} columns`)
    const bits = (t: typeof a) => new Uint32Array(t.values.buffer, t.values.byteOffset, t.values.length)
    const x = bits(b)
    const y = bits(a)
    const cols = a.cols
    for (let row = 0; row < before.numItems; row++) {
      if (changed[row]) continue
      const start = row * cols
      for (let k = start; k < start + cols; k++) {
        if (x[k] !== y[k]) {
          changed[row] = 1
          break
        }
      }
    }
  }
  let count = 0
  for (const c of changed) count += c
  const rows = new Uint32Array(count)
  let at = 0
  for (let row = 0; row < changed.length; row++) if (changed[row]) rows[at++] = row
  return rows
}

/** What `createModelPatch` needs besides the target model. */
export interface ModelPatchOptions {
  fromVersion: number
  baseItemCount: number
  /** Changed item rows (`changedRows` of the item tensors). */
  rowIds: Uint32Array
  /**
   * Changed rows of the feature table (`changedRows` of the feature tensors, with `numItems` the feature
   * rows F); required when `target` has item features.
   */
  featureRowIds?: Uint32Array
  digest: Uint8Array
}

/**
 * The patch that takes model `fromVersion` (with `baseItemCount` items) to `target`, given the rows that
 * changed in between and the digest of `encodeModel(target)`. A target with item features gives a format-2
 * patch: the added items' feature rows and the changed feature-table rows.
 * @example const patch = createModelPatch(target, { fromVersion: 6, baseItemCount: 100, rowIds, digest })
 */
export function createModelPatch(
  target: ModelSnapshot,
  { fromVersion, baseItemCount, rowIds, featureRowIds, digest }: ModelPatchOptions,
): ModelPatch {
  const embedding = target.tensors.find((t) => t.name === 'item_embedding')
  const f = target.itemFeatures
  if (f && !featureRowIds) {
    throw new ProtocolError(
      'bad_row_ids',
      'the model has item features: a patch needs the changed feature rows (featureRowIds)',
    )
  }
  const rowsOf = (name: string) => (f && isFeatureTensor(name) ? featureRowIds! : rowIds)
  const patch: ModelPatch = {
    fromVersion,
    modelVersion: target.modelVersion,
    round: target.round,
    baseItemCount,
    numItems: target.itemIds.length,
    dim: embedding?.cols ?? 0,
    addedItemIds: target.itemIds.slice(baseItemCount),
    rowIds,
    tensors: target.tensors.map((t) => ({ name: t.name, cols: t.cols, values: pickRows(t, rowsOf(t.name)) })),
    digest,
  }
  if (f && baseItemCount <= target.itemIds.length) {
    patch.features = { addedItems: itemsFrom(f, baseItemCount), rowIds: featureRowIds! }
  }
  checkModelPatch(patch)
  return patch
}

/**
 * Applies a patch to the model it was made from and proves the result: the rebuilt model is encoded and its
 * SHA-256 must equal the patch's digest. Pure: `base` is not modified. Returns the model and its encoded
 * bytes (what a full download would have been, ready to cache).
 * @throws ProtocolError `base_mismatch` (another version or catalogue than the patch's base),
 *   `shape_mismatch`, `bad_row_ids`, `digest_mismatch` (the result is not the server's model)
 * @example const { snapshot, bytes } = await applyModelPatch(decodeModel(cached), decodeModelPatch(body))
 */
export async function applyModelPatch(
  base: ModelSnapshot,
  patch: ModelPatch,
): Promise<{ snapshot: ModelSnapshot; bytes: Uint8Array<ArrayBuffer> }> {
  checkModelPatch(patch)
  if (base.modelVersion !== patch.fromVersion) {
    throw new ProtocolError(
      'base_mismatch',
      `the patch goes from model version ${patch.fromVersion}, this model is version ${base.modelVersion}`,
    )
  }
  if (base.itemIds.length !== patch.baseItemCount) {
    throw new ProtocolError(
      'base_mismatch',
      `the patch's base has ${patch.baseItemCount} items, this model has ${base.itemIds.length}`,
    )
  }
  const { features } = patch
  if (!base.itemFeatures !== !features) {
    throw new ProtocolError(
      'base_mismatch',
      `the patch is for a model ${features ? 'with' : 'without'} item features, this model is not`,
    )
  }
  if (base.itemFeatures && features && base.itemFeatures.numFeatures !== features.addedItems.numFeatures) {
    throw new ProtocolError(
      'base_mismatch',
      `the patch's feature table has ${features.addedItems.numFeatures} rows, this model's ${base.itemFeatures.numFeatures}`,
    )
  }
  if (base.tensors.length !== patch.tensors.length) {
    throw new ProtocolError(
      'shape_mismatch',
      `the patch has ${patch.tensors.length} tensors, the model ${base.tensors.length}`,
    )
  }
  const n = patch.numItems
  const tensors = base.tensors.map((t): ModelTensor => {
    const p = patch.tensors.find((x) => x.name === t.name)
    if (!p || p.cols !== t.cols)
      throw new ProtocolError('shape_mismatch', `${t.name}: the patch has no ${t.cols}-column values for it`)
    // A feature table keeps its F rows; an item table grows to the patched catalogue.
    const isFeature = features !== undefined && isFeatureTensor(t.name)
    const rows = isFeature ? t.rows : n
    const rowIds = isFeature ? features.rowIds : patch.rowIds
    const values = new Float32Array(rows * t.cols)
    values.set(t.values.subarray(0, (isFeature ? t.rows : patch.baseItemCount) * t.cols))
    rowIds.forEach((row, i) => {
      if (row >= rows)
        throw new ProtocolError('bad_row_ids', `${t.name}: row ${row} is out of range (${rows} rows)`)
      values.set(p.values.subarray(i * t.cols, (i + 1) * t.cols), row * t.cols)
    })
    return { name: t.name, rows, cols: t.cols, values }
  })
  const snapshot: ModelSnapshot = {
    modelVersion: patch.modelVersion,
    round: patch.round,
    itemIds: [...base.itemIds, ...patch.addedItemIds],
    tensors,
  }
  if (base.itemFeatures && features)
    snapshot.itemFeatures = appendItems(base.itemFeatures, features.addedItems)
  // encodeModel refuses an added id the base already has (an id twice in one catalogue).
  const bytes = encodeModel(snapshot)
  const digest = await modelDigest(bytes)
  if (!sameBytes(digest, patch.digest)) {
    throw new ProtocolError(
      'digest_mismatch',
      `the patched model (version ${patch.modelVersion}) is not the server's: its SHA-256 differs; download the whole model`,
    )
  }
  return { snapshot, bytes }
}

/** The feature rows of items `from` … of `f`, as a CSR of their own. */
function itemsFrom(f: ItemFeatures, from: number): ItemFeatures {
  const start = f.offsets[from] ?? f.rows.length
  return {
    numFeatures: f.numFeatures,
    offsets: f.offsets.slice(from).map((o) => o - start),
    rows: f.rows.slice(start),
  }
}

/** `added`'s items after `base`'s, as one CSR. */
function appendItems(base: ItemFeatures, added: ItemFeatures): ItemFeatures {
  const end = base.rows.length
  const offsets = new Uint32Array(base.offsets.length + added.offsets.length - 1)
  offsets.set(base.offsets)
  for (let i = 1; i < added.offsets.length; i++)
    offsets[base.offsets.length - 1 + i] = end + added.offsets[i]!
  const rows = new Uint32Array(end + added.rows.length)
  rows.set(base.rows)
  rows.set(added.rows, end)
  return { numFeatures: base.numFeatures, offsets, rows }
}

function pickRows(t: ModelTensor, rowIds: Uint32Array): Float32Array {
  const out = new Float32Array(rowIds.length * t.cols)
  rowIds.forEach((row, i) => {
    if (row >= t.rows)
      throw new ProtocolError('bad_row_ids', `${t.name}: row ${row} is out of range (${t.rows} rows)`)
    out.set(t.values.subarray(row * t.cols, (row + 1) * t.cols), i * t.cols)
  })
  return out
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
