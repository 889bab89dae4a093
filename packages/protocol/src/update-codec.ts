// The binary format of a client's upload (`POST /v1/updates`): its sparse weight deltas and the ids that
// make a retry safe.
import { ByteReader, ByteWriter, checkFinite, checkU32, readPreamble } from './binary.ts'
import {
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  FORMAT_VERSION,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  UPDATE_FORMAT_VERSION,
  UPDATE_MAGIC,
  type UpdateDtype,
} from './constants.ts'
import { ProtocolError } from './errors.ts'
import { FLOAT16_MAX } from './float16.ts'
import { bytesToHex, hexToBytes } from './ids.ts'
import type { ModelUpdate, TensorDelta } from './types.ts'

/*
 * Update format (little-endian, every array 4-byte aligned):
 *
 *   u32 magic "FRUP" | u16 format version (1 or 2) | u16 tensor count
 *   u32 round | u32 model version | u32 sample count n_k (≥ 1)
 *   16 B client id | 16 B idempotency key
 *   per tensor: u8 name length, name (ASCII), zero padding to 4
 *     version 1: u32 row count R | u32 cols C | u32[R] row ids (strictly ascending) | f32[R·C] deltas
 *     version 2: u32 dtype (0 = float32, 1 = float16, as FRMD numbers them) | u32 row count R | u32 cols C
 *                | u32[R] row ids (strictly ascending) | R·C deltas of that dtype | zero padding to 4
 *   u32 CRC-32 of everything before it
 *
 * Float16 deltas halve the upload (docs/aggregator.md has the measurement); they are rounded toward zero
 * (float16.ts says why) and widened to float32 on decoding, so everything after the decoder is unchanged.
 */

const MAX_COLS = 4096
const DTYPE_CODES = { f32: 0, f16: 1 } as const satisfies Record<UpdateDtype, number>
const BYTES_PER_VALUE = { f32: 4, f16: 2 } as const satisfies Record<UpdateDtype, number>

/** How `encodeUpdate` writes the deltas. */
export interface EncodeUpdateOptions {
  /**
   * `'f32'` (the default) writes format version 1, which every aggregator reads; `'f16'` writes version 2
   * with float16 deltas (half the bytes), refusing a delta beyond ±65504. Follow the round config's
   * `updateDtype`.
   */
  dtype?: UpdateDtype
}

/**
 * Encodes a client's update for `POST /v1/updates`. Refuses what a decoder would refuse, so a bug in a client
 * shows up where it happens.
 * @example const body = encodeUpdate({ round: 3, modelVersion: 3, clientId, idempotencyKey: newRandomId(), sampleCount: 40, tensors }, { dtype: info.config.updateDtype })
 */
export function encodeUpdate(
  update: ModelUpdate,
  { dtype = 'f32' }: EncodeUpdateOptions = {},
): Uint8Array<ArrayBuffer> {
  checkU32(update.round, 'round')
  checkU32(update.modelVersion, 'model version')
  checkSampleCount(update.sampleCount)
  if (update.tensors.length > 0xffff)
    throw new ProtocolError('bad_header', `too many tensors: ${update.tensors.length}`)
  const w = new ByteWriter()
  w.u32(UPDATE_MAGIC)
  w.u16(dtype === 'f32' ? FORMAT_VERSION : UPDATE_FORMAT_VERSION)
  w.u16(update.tensors.length)
  w.u32(update.round)
  w.u32(update.modelVersion)
  w.u32(update.sampleCount)
  w.bytes(hexToBytes(update.clientId, 'client id'))
  w.bytes(hexToBytes(update.idempotencyKey, 'idempotency key'))
  for (const t of update.tensors) {
    checkDelta(t)
    w.name(t.name)
    if (dtype === 'f16') {
      checkFloat16Range(t.values, `${t.name} deltas`)
      w.u32(DTYPE_CODES.f16)
    }
    w.u32(t.rowIds.length)
    w.u32(t.cols)
    w.u32s(t.rowIds)
    if (dtype === 'f16') w.f16s(t.values)
    else w.f32s(t.values)
  }
  return w.finish()
}

/**
 * Decodes and checks an update: framing, checksum, ids, sample count, row ids strictly ascending, every
 * value finite. Reads format versions 1 and 2; float16 deltas come back widened (exactly) to float32.
 * Whether the update fits the current model is `checkUpdateFits`.
 * @throws ProtocolError with a `code` saying what was wrong
 * @example const update = decodeUpdate(new Uint8Array(await req.arrayBuffer()))
 */
export function decodeUpdate(bytes: Uint8Array): ModelUpdate {
  const r = new ByteReader(bytes, 'update')
  const { tensorCount, version } = readPreamble(
    r,
    UPDATE_MAGIC,
    [FORMAT_VERSION, UPDATE_FORMAT_VERSION],
    'update',
  )
  const round = r.u32('round')
  const modelVersion = r.u32('model version')
  const sampleCount = r.u32('sample count')
  checkSampleCount(sampleCount)
  const clientId = bytesToHex(r.bytesOf(16, 'client id'))
  const idempotencyKey = bytesToHex(r.bytesOf(16, 'idempotency key'))
  const tensors: TensorDelta[] = []
  const seen = new Set<string>()
  for (let i = 0; i < tensorCount; i++) {
    const name = r.name(`tensor ${i} name`)
    if (seen.has(name)) throw new ProtocolError('bad_tensor', `tensor ${JSON.stringify(name)} appears twice`)
    seen.add(name)
    const dtype = version === FORMAT_VERSION ? 'f32' : readDtype(r, name)
    const rows = r.u32(`${name} row count`)
    const cols = r.u32(`${name} cols`)
    if (cols < 1 || cols > MAX_COLS)
      throw new ProtocolError('bad_tensor', `${name}: cols must be 1..${MAX_COLS}, got ${cols}`)
    // Check the size before allocating: a forged row count must not make us allocate gigabytes.
    if (rows * (4 + cols * BYTES_PER_VALUE[dtype]) > r.remaining) {
      throw new ProtocolError(
        'truncated',
        `${name}: ${rows} rows × ${cols} cols do not fit in ${r.remaining} bytes`,
      )
    }
    const rowIds = r.u32s(rows, `${name} row ids`)
    const values =
      dtype === 'f16' ? r.f16s(rows * cols, `${name} deltas`) : r.f32s(rows * cols, `${name} deltas`)
    const delta = { name, cols, rowIds, values }
    checkDelta(delta)
    tensors.push(delta)
  }
  r.done('update')
  return { round, modelVersion, clientId, idempotencyKey, sampleCount, tensors }
}

/**
 * Checks that a decoded update fits a model of `numItems` rows and `dim` columns (and, for a model with an
 * item-feature table, `numFeatures` feature rows): known tensor names with the right width and every row id
 * in range — item rows below `numItems`, feature rows below `numFeatures`.
 * @throws ProtocolError `shape_mismatch` or `bad_row_ids`
 * @example checkUpdateFits(update, { numItems: 240, dim: 32, numFeatures: 4096 })
 */
export function checkUpdateFits(
  update: ModelUpdate,
  model: { numItems: number; dim: number; numFeatures?: number; tensors?: ReadonlyMap<string, number> },
): void {
  const { numFeatures } = model
  const widths =
    model.tensors ??
    new Map([
      [ITEM_EMBEDDING, model.dim],
      [ITEM_BIAS, 1],
      ...(numFeatures === undefined
        ? []
        : ([
            [FEATURE_EMBEDDING, model.dim],
            [FEATURE_BIAS, 1],
          ] as const)),
    ])
  for (const t of update.tensors) {
    const cols = widths.get(t.name)
    if (cols === undefined) {
      throw new ProtocolError(
        'shape_mismatch',
        `unknown tensor ${JSON.stringify(t.name)}; the model has ${[...widths.keys()].join(', ')}`,
      )
    }
    if (t.cols !== cols)
      throw new ProtocolError('shape_mismatch', `${t.name}: ${t.cols} columns, the model has ${cols}`)
    const isFeature = t.name === FEATURE_EMBEDDING || t.name === FEATURE_BIAS
    const rows = isFeature && numFeatures !== undefined ? numFeatures : model.numItems
    const last = t.rowIds[t.rowIds.length - 1]
    if (last !== undefined && last >= rows) {
      throw new ProtocolError(
        'bad_row_ids',
        `${t.name}: row id ${last} is out of range (the model has ${rows} ${isFeature ? 'feature rows' : 'items'})`,
      )
    }
  }
}

function readDtype(r: ByteReader, name: string): UpdateDtype {
  const code = r.u32(`${name} dtype`)
  if (code === DTYPE_CODES.f32) return 'f32'
  if (code === DTYPE_CODES.f16) return 'f16'
  throw new ProtocolError('bad_tensor', `${name}: unknown dtype ${code} (0 = float32, 1 = float16)`)
}

/** A finite float32 beyond ±65504 has no float16: refused like a non-finite value, not sent as ±Infinity. */
function checkFloat16Range(values: Float32Array, field: string): void {
  for (let i = 0; i < values.length; i++) {
    if (Math.abs(values[i]!) > FLOAT16_MAX) {
      throw new ProtocolError(
        'non_finite',
        `${field}: value ${values[i]} at index ${i} does not fit float16 (±${FLOAT16_MAX}); send float32`,
      )
    }
  }
}

function checkSampleCount(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) {
    throw new ProtocolError('bad_sample_count', `sample count must be a positive integer, got ${n}`)
  }
}

function checkDelta(t: TensorDelta): void {
  if (t.values.length !== t.rowIds.length * t.cols) {
    throw new ProtocolError(
      'bad_tensor',
      `${t.name}: ${t.values.length} values for ${t.rowIds.length} rows × ${t.cols} cols`,
    )
  }
  for (let i = 1; i < t.rowIds.length; i++) {
    if (t.rowIds[i]! <= t.rowIds[i - 1]!) {
      throw new ProtocolError(
        'bad_row_ids',
        `${t.name}: row ids must be strictly ascending (repeated or unsorted ${t.rowIds[i]} after ${t.rowIds[i - 1]})`,
      )
    }
  }
  checkFinite(t.values, `${t.name} deltas`)
}
