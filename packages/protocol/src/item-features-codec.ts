// The item-feature block of model format 2 and model patch format 2: each item's rows of the feature table.
import { type ByteReader, type ByteWriter, checkU32 } from './binary.ts'
import { FEATURE_BIAS, FEATURE_EMBEDDING } from './constants.ts'
import { ProtocolError } from './errors.ts'
import type { ItemFeatures } from './types.ts'

/*
 * Item-feature block (little-endian, 4-byte aligned), for `n` items known from the header:
 *
 *   u32 feature rows F (≥ 1) | u32 total row count R
 *   n × u16 the item's row count, zero padding to 4
 *   R × row index (u16 when F ≤ 65536, else u32), item after item, zero padding to 4
 *
 * Counts rather than offsets and u16 indices for the usual F (4096): a shop of 5,000 items with 7 features
 * each takes 80 kB rather than 160 kB; the decoder rebuilds the offsets.
 */

/** Most feature rows one item may have: its count is a u16. */
export const MAX_ROWS_PER_ITEM = 0xffff
const U16_ROWS = 0x10000

/** Writes the block for `f`, which `checkItemFeatureRows` has passed. */
export function writeItemFeatures(w: ByteWriter, f: ItemFeatures): void {
  const n = f.offsets.length - 1
  w.u32(f.numFeatures)
  w.u32(f.rows.length)
  for (let i = 0; i < n; i++) w.u16(f.offsets[i + 1]! - f.offsets[i]!)
  w.align4()
  if (f.numFeatures <= U16_ROWS) {
    for (const row of f.rows) w.u16(row)
    w.align4()
  } else {
    w.u32s(f.rows)
  }
}

/** Reads the block of `items` items and checks it (`checkItemFeatureRows`). */
export function readItemFeatures(r: ByteReader, items: number, what: string): ItemFeatures {
  const numFeatures = r.u32(`${what} feature rows`)
  const total = r.u32(`${what} feature row count`)
  const width = numFeatures <= U16_ROWS ? 2 : 4
  // Refuse forged counts before allocating for them.
  if (items * 2 + total * width > r.remaining) {
    throw new ProtocolError(
      'truncated',
      `${what}: ${items} items with ${total} feature rows do not fit in ${r.remaining} bytes`,
    )
  }
  const offsets = new Uint32Array(items + 1)
  for (let i = 0; i < items; i++) offsets[i + 1] = offsets[i]! + r.u16(`${what} item ${i} feature count`)
  r.skipPadding(`${what} feature count padding`)
  if (offsets[items] !== total) {
    throw new ProtocolError(
      'bad_header',
      `${what}: the items' feature counts add up to ${offsets[items]}, the block says ${total}`,
    )
  }
  let rows: Uint32Array
  if (width === 2) {
    rows = new Uint32Array(total)
    for (let i = 0; i < total; i++) rows[i] = r.u16(`${what} feature row ${i}`)
    r.skipPadding(`${what} feature row padding`)
  } else {
    rows = r.u32s(total, `${what} feature rows`)
  }
  const f = { numFeatures, offsets, rows }
  checkItemFeatureRows(f, items, what)
  return f
}

/**
 * Throws a ProtocolError unless `f` describes exactly `items` items: offsets from 0 ascending to the row
 * count, at most MAX_ROWS_PER_ITEM rows per item, every row below F, F ≥ 1.
 * @example checkItemFeatureRows(snapshot.itemFeatures, snapshot.itemIds.length, 'model')
 */
export function checkItemFeatureRows(f: ItemFeatures, items: number, what: string): void {
  checkU32(f.numFeatures, `${what} feature rows`)
  if (f.numFeatures < 1) throw new ProtocolError('bad_header', `${what}: the feature table has no rows`)
  const { offsets, rows } = f
  if (offsets.length !== items + 1) {
    throw new ProtocolError(
      'shape_mismatch',
      `${what}: feature offsets for ${offsets.length - 1} items, the ids are ${items}`,
    )
  }
  if (offsets[0] !== 0 || offsets[items] !== rows.length) {
    throw new ProtocolError('bad_header', `${what}: feature offsets must run from 0 to ${rows.length}`)
  }
  for (let i = 0; i < items; i++) {
    const count = offsets[i + 1]! - offsets[i]!
    if (offsets[i + 1]! < offsets[i]! || count > MAX_ROWS_PER_ITEM) {
      throw new ProtocolError(
        'bad_header',
        `${what}: item ${i} has ${offsets[i + 1]! < offsets[i]! ? 'descending offsets' : `${count} feature rows (at most ${MAX_ROWS_PER_ITEM})`}`,
      )
    }
  }
  for (let i = 0; i < rows.length; i++) {
    if (rows[i]! >= f.numFeatures) {
      throw new ProtocolError(
        'bad_row_ids',
        `${what}: feature row ${rows[i]} is out of range (the feature table has ${f.numFeatures} rows)`,
      )
    }
  }
}

/** Whether a tensor is one of the feature table's: its rows are feature rows, not items. */
export const isFeatureTensor = (name: string): boolean => name === FEATURE_EMBEDDING || name === FEATURE_BIAS
