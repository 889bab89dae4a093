// Rows holding tensors (the model, its change log, the optimizer moments) read back into typed arrays and
// checked, the same whichever driver returned them: both stores read them here.
import { featuresFromRow, uintsFromBlob } from './feature-columns.ts'
import type { ModelChanges, StoredModel } from './model.ts'
import { checkModelFinite, modelChecksum } from './model-checksum.ts'
import type { OptimizerState } from './optimizer-state.ts'
import { asRow, blob, floatsFromBlob, int, nullable, StoreCorruptError, text } from './rows.ts'

/**
 * The `model` row with its catalogue's ids as a model, checked against the checksum it was written with
 * and for finite values. Returns the checksum to seal it with when it was written without one (null: it
 * has one and it matches).
 * @throws StoreCorruptError when its bytes do not match the checksum, a value is not finite, or the
 *   catalogue does not have its number of items
 * @example const { model, seal } = toStoredModel(rows[0], itemIds)
 */
export function toStoredModel(
  input: unknown,
  itemIds: string[],
): { model: StoredModel; seal: string | null } {
  const row = asRow(input, 'model')
  const numItems = int(row, 'num_items', 'model')
  const dim = int(row, 'dim', 'model')
  if (itemIds.length !== numItems)
    throw new StoreCorruptError(`model has ${numItems} items but the catalogue lists ${itemIds.length}`)
  const model: StoredModel = {
    version: int(row, 'version', 'model'),
    round: int(row, 'round', 'model'),
    dim,
    itemIds,
    itemEmbedding: floatsFromBlob(
      blob(row, 'item_embedding', 'model'),
      numItems * dim,
      'model.item_embedding',
    ),
    itemBias: floatsFromBlob(blob(row, 'item_bias', 'model'), numItems, 'model.item_bias'),
    createdAt: text(row, 'created_at', 'model'),
  }
  const features = featuresFromRow(row, numItems, dim)
  if (features) model.features = features
  const stored = nullable(row, 'checksum', 'model', text)
  const actual = modelChecksum(model)
  if (stored !== null && stored !== actual)
    throw new StoreCorruptError(
      `model version ${model.version} does not match the checksum it was written with (stored ${stored.slice(0, 12)}…, now ${actual.slice(0, 12)}…): its bytes were damaged on disk; restore the store from a backup`,
    )
  checkModelFinite(model)
  return { model, seal: stored === null ? actual : null }
}

/**
 * A `model_changes` row: the row ids (and the feature-table row ids, NULL for an id-only model) are uint32
 * little-endian.
 * @example const changes = rows.map(toModelChanges)
 */
export function toModelChanges(input: unknown): ModelChanges {
  const row = asRow(input, 'model_changes')
  const changes: ModelChanges = {
    version: int(row, 'version', 'model_changes'),
    baseItems: int(row, 'base_items', 'model_changes'),
    rows: uintsFromBlob(blob(row, 'rows', 'model_changes'), 'model_changes.rows'),
  }
  const featureRows = nullable(row, 'feature_rows', 'model_changes', blob)
  if (featureRows) changes.featureRows = uintsFromBlob(featureRows, 'model_changes.feature_rows')
  return changes
}

/**
 * The `optimizer_state` rows as moments per tensor.
 * @example const state = toOptimizerState((await query(`SELECT tensor, slot, data FROM optimizer_state`)).rows)
 */
export function toOptimizerState(rows: readonly unknown[]): OptimizerState {
  const state: OptimizerState = new Map()
  for (const input of rows) {
    const row = asRow(input, 'optimizer_state')
    const tensor = text(row, 'tensor', 'optimizer_state')
    const slot = text(row, 'slot', 'optimizer_state')
    if (slot !== 'm' && slot !== 'v') throw new StoreCorruptError(`optimizer_state: unknown slot ${slot}`)
    const bytes = blob(row, 'data', 'optimizer_state')
    const entry = state.get(tensor) ?? {}
    entry[slot] = floatsFromBlob(bytes, bytes.byteLength / 4, `optimizer_state.${tensor}.${slot}`)
    state.set(tensor, entry)
  }
  return state
}
