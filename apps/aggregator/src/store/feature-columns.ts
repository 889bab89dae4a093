// A model's item features as the `model` row stores them (schema version 9): five nullable columns, all set
// or all NULL, read back with the same checks whichever backend returned them.
import type { StoredFeatures, StoredModel } from './model.ts'
import { blob, floatsFromBlob, floatsToBlob, int, StoreCorruptError } from './rows.ts'

/** The `model` columns of the item features, in the order the SQL of both backends lists them. */
export const FEATURE_COLUMNS = [
  'num_features',
  'feature_embedding',
  'feature_bias',
  'item_feature_offsets',
  'item_feature_rows',
] as const

/**
 * The values of FEATURE_COLUMNS for `model` (all null for an id-only model).
 * @example const values = featureColumns(model) // { num_features: 4096, feature_embedding: <Buffer …>, … }
 */
export function featureColumns(
  model: StoredModel,
): Record<(typeof FEATURE_COLUMNS)[number], number | Buffer | null> {
  const f = model.features
  if (!f)
    return {
      num_features: null,
      feature_embedding: null,
      feature_bias: null,
      item_feature_offsets: null,
      item_feature_rows: null,
    }
  checkFeatureShape(f, model.itemIds.length, model.dim)
  return {
    num_features: f.table.rows,
    feature_embedding: floatsToBlob(f.table.embedding),
    feature_bias: floatsToBlob(f.table.bias),
    item_feature_offsets: uintsToBlob(f.items.offsets),
    item_feature_rows: uintsToBlob(f.items.rows),
  }
}

/**
 * The item features of a `model` row of `numItems` items and width `dim`, or undefined when it has none.
 * @throws StoreCorruptError when the columns are partly set, misshaped, or point outside the table
 */
export function featuresFromRow(
  row: Record<string, unknown>,
  numItems: number,
  dim: number,
): StoredFeatures | undefined {
  const set = FEATURE_COLUMNS.filter((c) => row[c] !== null && row[c] !== undefined)
  if (set.length === 0) return undefined
  if (set.length !== FEATURE_COLUMNS.length)
    throw new StoreCorruptError(
      `model: the item-feature columns must be all set or all NULL, only ${set.join(', ')} are set`,
    )
  const rows = int(row, 'num_features', 'model')
  const offsetBytes = blob(row, 'item_feature_offsets', 'model')
  const rowBytes = blob(row, 'item_feature_rows', 'model')
  const f: StoredFeatures = {
    table: {
      rows,
      embedding: floatsFromBlob(
        blob(row, 'feature_embedding', 'model'),
        rows * dim,
        'model.feature_embedding',
      ),
      bias: floatsFromBlob(blob(row, 'feature_bias', 'model'), rows, 'model.feature_bias'),
    },
    items: {
      numFeatures: rows,
      offsets: uintsFromBlob(offsetBytes, 'model.item_feature_offsets'),
      rows: uintsFromBlob(rowBytes, 'model.item_feature_rows'),
    },
  }
  checkFeatureShape(f, numItems, dim, (message) => new StoreCorruptError(`model: ${message}`))
  return f
}

/**
 * Throws unless `f` fits a model of `numItems` items and width `dim`: F ≥ 1, tensors of F rows, one offset
 * per item plus one, ascending from 0 to the number of rows, every row below F.
 */
export function checkFeatureShape(
  f: StoredFeatures,
  numItems: number,
  dim: number,
  error: (message: string) => Error = (message) => new Error(`model features: ${message}`),
): void {
  const { table, items } = f
  if (!Number.isSafeInteger(table.rows) || table.rows < 1 || items.numFeatures !== table.rows)
    throw error(`the feature table has ${table.rows} rows, the item features hash into ${items.numFeatures}`)
  if (table.embedding.length !== table.rows * dim || table.bias.length !== table.rows)
    throw error(`the feature table is not ${table.rows} × ${dim} with ${table.rows} biases`)
  const { offsets, rows } = items
  if (offsets.length !== numItems + 1)
    throw error(`${offsets.length} item-feature offsets for ${numItems} items (expected ${numItems + 1})`)
  if (offsets[0] !== 0 || offsets[numItems] !== rows.length)
    throw error(`item-feature offsets must run from 0 to ${rows.length}`)
  for (let i = 1; i <= numItems; i++)
    if (offsets[i]! < offsets[i - 1]!) throw error(`item-feature offsets must ascend (item ${i - 1})`)
  const bad = rows.findIndex((r) => r >= table.rows)
  if (bad >= 0) throw error(`item-feature row ${rows[bad]} is outside the table's ${table.rows} rows`)
}

/** The bytes of a uint32 array, little-endian as this machine writes it (no copy). */
export const uintsToBlob = (values: Uint32Array): Buffer =>
  Buffer.from(values.buffer, values.byteOffset, values.byteLength)

/** A uint32 array stored as a blob, copied so it is aligned and owned. */
export function uintsFromBlob(bytes: Uint8Array, what: string): Uint32Array {
  if (bytes.byteLength % 4 !== 0)
    throw new StoreCorruptError(`${what}: ${bytes.byteLength} bytes is not a list of uint32`)
  const out = new Uint32Array(bytes.byteLength / 4)
  new Uint8Array(out.buffer).set(bytes)
  return out
}
