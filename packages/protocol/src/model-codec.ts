// The full model download (`GET /v1/model`): the binary format the aggregator serves and the device caches.
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
  MODEL_FORMAT_VERSION,
  MODEL_MAGIC,
} from './constants.ts'
import { ProtocolError } from './errors.ts'
import { checkItemFeatureRows, readItemFeatures, writeItemFeatures } from './item-features-codec.ts'
import type { ItemFeatures, ModelSnapshot, ModelTensor } from './types.ts'

/*
 * Model download format, versions 1 and 2 (little-endian, every array 4-byte aligned):
 *
 *   u32 magic "FRMD" | u16 format version | u16 tensor count
 *   u32 model version | u32 round | u32 item count N
 *   N × (u16 byte length, UTF-8 item id), zero padding to 4      — row i of the item tensors is item i
 *   version 2 only: the item-feature block of the N items (item-features-codec.ts)
 *   per tensor: u8 name length, name (ASCII), zero padding to 4
 *               u32 dtype (0 = float32) | u32 rows | u32 cols | values
 *   u32 CRC-32 of everything before it
 *
 * The dtype field leaves room for a quantised download later without a new format version.
 * Version 2 is written exactly when the model has item features; it then has the tensors feature_embedding
 * (F × dim) and feature_bias (F × 1). A model without them is written as version 1, byte for byte as before
 * item features existed, so older devices keep reading it.
 */

const DTYPE_FLOAT32 = 0

/**
 * Encodes the global model for `GET /v1/model`.
 * @example const body = encodeModel({ modelVersion: 4, round: 4, itemIds, tensors: [embedding, bias] })
 */
export function encodeModel(snapshot: ModelSnapshot): Uint8Array<ArrayBuffer> {
  checkU32(snapshot.modelVersion, 'model version')
  checkU32(snapshot.round, 'round')
  checkSnapshot(snapshot)
  const w = new ByteWriter()
  w.u32(MODEL_MAGIC)
  w.u16(snapshot.itemFeatures ? MODEL_FORMAT_VERSION : FORMAT_VERSION)
  w.u16(snapshot.tensors.length)
  w.u32(snapshot.modelVersion)
  w.u32(snapshot.round)
  w.u32(snapshot.itemIds.length)
  for (const id of snapshot.itemIds) {
    const raw = encodeUtf8(id)
    w.u16(raw.length)
    w.bytes(raw)
  }
  w.align4()
  if (snapshot.itemFeatures) writeItemFeatures(w, snapshot.itemFeatures)
  for (const t of snapshot.tensors) {
    w.name(t.name)
    w.u32(DTYPE_FLOAT32)
    w.u32(t.rows)
    w.u32(t.cols)
    w.f32s(t.values)
  }
  return w.finish()
}

/**
 * Decodes and checks a model download: framing, checksum, unique non-empty item ids, the item tensors
 * present with one row per item, every value finite.
 * @throws ProtocolError
 * @example const model = decodeModel(new Uint8Array(await res.arrayBuffer()))
 */
export function decodeModel(bytes: Uint8Array): ModelSnapshot {
  const r = new ByteReader(bytes, 'model')
  const { tensorCount, version } = readPreamble(
    r,
    MODEL_MAGIC,
    [FORMAT_VERSION, MODEL_FORMAT_VERSION],
    'model',
  )
  const modelVersion = r.u32('model version')
  const round = r.u32('round')
  const itemCount = r.u32('item count')
  // Each id takes at least 3 bytes: refuse a forged count before allocating for it.
  if (itemCount * 3 > r.remaining)
    throw new ProtocolError('truncated', `item count ${itemCount} does not fit`)
  const itemIds: string[] = new Array(itemCount)
  for (let i = 0; i < itemCount; i++) {
    const length = r.u16(`item ${i} id length`)
    itemIds[i] = decodeUtf8(r.bytesOf(length, `item ${i} id`), `item ${i} id`)
  }
  r.skipPadding('item id padding')
  const itemFeatures = version === MODEL_FORMAT_VERSION ? readItemFeatures(r, itemCount, 'model') : undefined
  const tensors: ModelTensor[] = []
  for (let i = 0; i < tensorCount; i++) {
    const name = r.name(`tensor ${i} name`)
    const dtype = r.u32(`${name} dtype`)
    if (dtype !== DTYPE_FLOAT32) throw new ProtocolError('bad_tensor', `${name}: unknown dtype ${dtype}`)
    const rows = r.u32(`${name} rows`)
    const cols = r.u32(`${name} cols`)
    if (rows * cols * 4 > r.remaining) {
      throw new ProtocolError(
        'truncated',
        `${name}: ${rows} × ${cols} floats do not fit in ${r.remaining} bytes`,
      )
    }
    tensors.push({ name, rows, cols, values: r.f32s(rows * cols, `${name} values`) })
  }
  r.done('model')
  const snapshot: ModelSnapshot = { modelVersion, round, itemIds, tensors }
  if (itemFeatures) snapshot.itemFeatures = itemFeatures
  checkSnapshot(snapshot)
  return snapshot
}

function checkSnapshot(s: ModelSnapshot): void {
  const seen = new Set<string>()
  for (const id of s.itemIds) {
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
  const names = new Set<string>()
  for (const t of s.tensors) {
    if (names.has(t.name))
      throw new ProtocolError('bad_tensor', `tensor ${JSON.stringify(t.name)} appears twice`)
    names.add(t.name)
    if (t.values.length !== t.rows * t.cols) {
      throw new ProtocolError('bad_tensor', `${t.name}: ${t.values.length} values for ${t.rows} × ${t.cols}`)
    }
    checkFinite(t.values, `${t.name} values`)
  }
  for (const [name, cols] of [
    [ITEM_EMBEDDING, undefined],
    [ITEM_BIAS, 1],
  ] as const) {
    const t = s.tensors.find((x) => x.name === name)
    if (!t) throw new ProtocolError('shape_mismatch', `model has no ${name} tensor`)
    if (t.rows !== s.itemIds.length) {
      throw new ProtocolError('shape_mismatch', `${name} has ${t.rows} rows for ${s.itemIds.length} items`)
    }
    if (cols !== undefined && t.cols !== cols)
      throw new ProtocolError('shape_mismatch', `${name} must have ${cols} column`)
    if (t.cols < 1) throw new ProtocolError('shape_mismatch', `${name} has no columns`)
  }
  if (s.itemFeatures) checkFeatureTable(s, s.itemFeatures)
}

/** Item features need the table they point into: both feature tensors, F rows, the item table's width. */
function checkFeatureTable(s: ModelSnapshot, f: ItemFeatures): void {
  checkItemFeatureRows(f, s.itemIds.length, 'model')
  const { numFeatures } = f
  const dim = s.tensors.find((t) => t.name === ITEM_EMBEDDING)!.cols
  for (const [name, cols] of [
    [FEATURE_EMBEDDING, dim],
    [FEATURE_BIAS, 1],
  ] as const) {
    const t = s.tensors.find((x) => x.name === name)
    if (!t) throw new ProtocolError('shape_mismatch', `model has item features but no ${name} tensor`)
    if (t.rows !== numFeatures || t.cols !== cols) {
      throw new ProtocolError(
        'shape_mismatch',
        `${name} is ${t.rows} × ${t.cols}, the item features need ${numFeatures} × ${cols}`,
      )
    }
  }
}
