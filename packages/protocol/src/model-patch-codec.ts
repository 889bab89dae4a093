// The binary format of a model patch (`GET /v1/model?since=`): only the rows changed since the version a
// device holds.
import {
  ByteReader,
  ByteWriter,
  checkFinite,
  checkU32,
  decodeUtf8,
  encodeUtf8,
  readPreamble,
} from './binary.ts'
import {
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  FORMAT_VERSION,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  MAX_ITEM_ID_BYTES,
  MODEL_DIGEST_BYTES,
  MODEL_FORMAT_VERSION,
  MODEL_PATCH_MAGIC,
} from './constants.ts'
import { ProtocolError } from './errors.ts'
import {
  checkItemFeatureRows,
  isFeatureTensor,
  readItemFeatures,
  writeItemFeatures,
} from './item-features-codec.ts'
import type { ModelPatch, PatchFeatures, PatchTensor } from './types.ts'

/*
 * Model patch format, versions 1 and 2 (little-endian, every array 4-byte aligned):
 *
 *   u32 magic "FRMP" | u16 format version | u16 tensor count
 *   u32 from version | u32 model version | u32 round
 *   u32 base item count B | u32 item count N | u32 dim
 *   (N − B) × (u16 byte length, UTF-8 item id), zero padding to 4   — the ids of rows B … N − 1
 *   version 2 only: the item-feature block of the N − B added items (item-features-codec.ts)
 *   u32 changed row count R | u32[R] row ids (strictly ascending, < N, rows B … N − 1 among them)
 *   version 2 only: u32 changed feature row count Q | u32[Q] feature row ids (strictly ascending, < F)
 *   per tensor: u8 name length, name (ASCII), zero padding to 4
 *               u32 cols | f32[R·cols] the new values of the changed rows
 *               (feature_embedding and feature_bias: f32[Q·cols], the changed feature rows)
 *   32 B SHA-256 of the resulting model as encodeModel writes it
 *   u32 CRC-32 of everything before it
 *
 * The CRC catches damage in transit, like FRUP and FRMD; the SHA-256 is a different promise: that the model
 * the client rebuilds is byte for byte the one the server would have sent whole (see model-patch.ts).
 *
 * Version 2 is the patch of a model with item features (model format 2), and only it carries feature
 * tensors. The feature rows of items already in the base are not in it: they do not change in a patch (the
 * digest would catch a server that changed them; it then sends the whole model).
 */

const MAX_COLS = 4096

/**
 * Encodes a model patch for `GET /v1/model?since=<version>`. Refuses what the decoder would refuse.
 * @example const body = encodeModelPatch(createModelPatch(target, { fromVersion: 6, baseItemCount, rowIds, digest }))
 */
export function encodeModelPatch(patch: ModelPatch): Uint8Array<ArrayBuffer> {
  checkModelPatch(patch)
  const w = new ByteWriter()
  w.u32(MODEL_PATCH_MAGIC)
  w.u16(patch.features ? MODEL_FORMAT_VERSION : FORMAT_VERSION)
  w.u16(patch.tensors.length)
  w.u32(patch.fromVersion)
  w.u32(patch.modelVersion)
  w.u32(patch.round)
  w.u32(patch.baseItemCount)
  w.u32(patch.numItems)
  w.u32(patch.dim)
  for (const id of patch.addedItemIds) {
    const raw = encodeUtf8(id)
    w.u16(raw.length)
    w.bytes(raw)
  }
  w.align4()
  if (patch.features) writeItemFeatures(w, patch.features.addedItems)
  w.u32(patch.rowIds.length)
  w.u32s(patch.rowIds)
  if (patch.features) {
    w.u32(patch.features.rowIds.length)
    w.u32s(patch.features.rowIds)
  }
  for (const t of patch.tensors) {
    w.name(t.name)
    w.u32(t.cols)
    w.f32s(t.values)
  }
  w.bytes(patch.digest)
  return w.finish()
}

/**
 * Decodes and checks a model patch: framing, checksum, versions, ids, row ids, the item tensors present with
 * the right widths, every value finite. Whether it fits the model at hand is `applyModelPatch`'s check.
 * @throws ProtocolError
 * @example const patch = decodeModelPatch(new Uint8Array(await res.arrayBuffer()))
 */
export function decodeModelPatch(bytes: Uint8Array): ModelPatch {
  const r = new ByteReader(bytes, 'model patch')
  const { tensorCount, version } = readPreamble(
    r,
    MODEL_PATCH_MAGIC,
    [FORMAT_VERSION, MODEL_FORMAT_VERSION],
    'model patch',
  )
  const fromVersion = r.u32('from version')
  const modelVersion = r.u32('model version')
  const round = r.u32('round')
  const baseItemCount = r.u32('base item count')
  const numItems = r.u32('item count')
  const dim = r.u32('dim')
  if (baseItemCount > numItems) {
    throw new ProtocolError(
      'bad_header',
      `base item count ${baseItemCount} is above the item count ${numItems}: a catalogue only grows`,
    )
  }
  const added = numItems - baseItemCount
  // Each id takes at least 3 bytes: refuse a forged count before allocating for it.
  if (added * 3 > r.remaining) throw new ProtocolError('truncated', `${added} added item ids do not fit`)
  const addedItemIds: string[] = new Array(added)
  for (let i = 0; i < added; i++) {
    const length = r.u16(`added item ${i} id length`)
    addedItemIds[i] = decodeUtf8(r.bytesOf(length, `added item ${i} id`), `added item ${i} id`)
  }
  r.skipPadding('item id padding')
  const addedItems =
    version === MODEL_FORMAT_VERSION ? readItemFeatures(r, added, 'model patch added items') : undefined
  const rowIds = readRowIds(r, 'changed row')
  let features: PatchFeatures | undefined
  if (addedItems) features = { addedItems, rowIds: readRowIds(r, 'changed feature row') }
  const tensors: PatchTensor[] = []
  for (let i = 0; i < tensorCount; i++) {
    const name = r.name(`tensor ${i} name`)
    const cols = r.u32(`${name} cols`)
    if (cols < 1 || cols > MAX_COLS)
      throw new ProtocolError('bad_tensor', `${name}: cols must be 1..${MAX_COLS}, got ${cols}`)
    const rowCount = (features && isFeatureTensor(name) ? features.rowIds : rowIds).length
    if (rowCount * cols * 4 > r.remaining) {
      throw new ProtocolError(
        'truncated',
        `${name}: ${rowCount} rows × ${cols} floats do not fit in ${r.remaining} bytes`,
      )
    }
    tensors.push({ name, cols, values: r.f32s(rowCount * cols, `${name} values`) })
  }
  const digest = r.bytesOf(MODEL_DIGEST_BYTES, 'digest')
  r.done('model patch')
  const patch: ModelPatch = {
    fromVersion,
    modelVersion,
    round,
    baseItemCount,
    numItems,
    dim,
    addedItemIds,
    rowIds,
    tensors,
    digest,
  }
  if (features) patch.features = features
  checkModelPatch(patch)
  return patch
}

function readRowIds(r: ByteReader, what: string): Uint32Array {
  const count = r.u32(`${what} count`)
  if (count * 4 > r.remaining)
    throw new ProtocolError('truncated', `${count} ${what} ids do not fit in ${r.remaining} bytes`)
  return r.u32s(count, `${what} ids`)
}

/** Everything the decoder checks, for a patch built in memory (`createModelPatch`, `applyModelPatch`). */
export function checkModelPatch(p: ModelPatch): void {
  for (const [field, x] of [
    ['from version', p.fromVersion],
    ['model version', p.modelVersion],
    ['round', p.round],
    ['base item count', p.baseItemCount],
    ['item count', p.numItems],
    ['dim', p.dim],
  ] as const)
    checkU32(x, field)
  if (p.fromVersion > p.modelVersion) {
    throw new ProtocolError(
      'bad_header',
      `a patch goes forward: from version ${p.fromVersion} is after model version ${p.modelVersion}`,
    )
  }
  if (p.baseItemCount > p.numItems || p.addedItemIds.length !== p.numItems - p.baseItemCount) {
    throw new ProtocolError(
      'bad_header',
      `${p.addedItemIds.length} added item ids for items ${p.baseItemCount} … ${p.numItems - 1}`,
    )
  }
  const seen = new Set<string>()
  for (const id of p.addedItemIds) {
    const bytes = encodeUtf8(id).length
    if (bytes === 0 || bytes > MAX_ITEM_ID_BYTES) {
      throw new ProtocolError(
        'bad_header',
        `item id ${JSON.stringify(id)} must be 1..${MAX_ITEM_ID_BYTES} UTF-8 bytes`,
      )
    }
    if (seen.has(id)) throw new ProtocolError('bad_header', `item id ${JSON.stringify(id)} appears twice`)
    seen.add(id)
  }
  checkRowIds(p)
  if (p.features) checkPatchFeatures(p, p.features)
  const names = new Set<string>()
  for (const t of p.tensors) {
    if (names.has(t.name))
      throw new ProtocolError('bad_tensor', `tensor ${JSON.stringify(t.name)} appears twice`)
    names.add(t.name)
    const isFeature = isFeatureTensor(t.name)
    if (isFeature && !p.features) {
      throw new ProtocolError(
        'shape_mismatch',
        `${t.name}: a feature table travels only in the patch of a model with item features (format 2)`,
      )
    }
    const rows = (isFeature && p.features ? p.features.rowIds : p.rowIds).length
    if (t.values.length !== rows * t.cols) {
      throw new ProtocolError(
        'bad_tensor',
        `${t.name}: ${t.values.length} values for ${rows} rows × ${t.cols} cols`,
      )
    }
    checkFinite(t.values, `${t.name} values`)
  }
  for (const [name, cols] of [
    [ITEM_EMBEDDING, p.dim],
    [ITEM_BIAS, 1],
    ...(p.features
      ? ([
          [FEATURE_EMBEDDING, p.dim],
          [FEATURE_BIAS, 1],
        ] as const)
      : []),
  ] as const) {
    const t = p.tensors.find((x) => x.name === name)
    if (!t) throw new ProtocolError('shape_mismatch', `model patch has no ${name} tensor`)
    if (t.cols !== cols)
      throw new ProtocolError('shape_mismatch', `${name}: ${t.cols} columns, the patch's model has ${cols}`)
  }
  if (p.digest.length !== MODEL_DIGEST_BYTES) {
    throw new ProtocolError(
      'bad_header',
      `digest must be ${MODEL_DIGEST_BYTES} bytes (SHA-256), got ${p.digest.length}`,
    )
  }
}

/** The added items' feature rows, one list per added item; changed feature rows ascending below F. */
function checkPatchFeatures(p: ModelPatch, f: PatchFeatures): void {
  checkItemFeatureRows(f.addedItems, p.numItems - p.baseItemCount, 'model patch added items')
  checkAscending(f.rowIds, f.addedItems.numFeatures, 'changed feature row', 'feature rows')
}

function checkAscending(ids: Uint32Array, limit: number, what: string, of: string): void {
  for (let i = 1; i < ids.length; i++) {
    if (ids[i]! <= ids[i - 1]!) {
      throw new ProtocolError(
        'bad_row_ids',
        `${what} ids must be strictly ascending (repeated or unsorted ${ids[i]} after ${ids[i - 1]})`,
      )
    }
  }
  const last = ids[ids.length - 1]
  if (last !== undefined && last >= limit) {
    throw new ProtocolError(
      'bad_row_ids',
      `${what} id ${last} is out of range (the patched model has ${limit} ${of})`,
    )
  }
}

/** Strictly ascending, below the item count, and every added row present (it has no other values). */
function checkRowIds(p: ModelPatch): void {
  const ids = p.rowIds
  checkAscending(ids, p.numItems, 'changed row', 'items')
  // Ascending and below numItems: the added rows are all there iff as many ids are ≥ baseItemCount.
  let addedRows = 0
  for (let i = ids.length - 1; i >= 0 && ids[i]! >= p.baseItemCount; i--) addedRows += 1
  if (addedRows !== p.numItems - p.baseItemCount) {
    throw new ProtocolError(
      'bad_row_ids',
      `the ${p.numItems - p.baseItemCount} rows of added items must all be among the changed rows, ${addedRows} are`,
    )
  }
}
