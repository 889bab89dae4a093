/** Item ids the operator queued: they join the model's catalogue when the current round closes. */
import { StoreCorruptError } from './rows.ts'

/** The queue of items waiting to join the catalogue. */
export interface CatalogueStore {
  /** Queued ids, in the order they were queued. */
  pendingItems(): Promise<string[]>
  /**
   * Queues ids that are neither in the catalogue nor pending, each with its feature strings from `features`
   * (an id absent there has none); returns how many were new.
   */
  queueItems(
    itemIds: readonly string[],
    queuedAt: string,
    features?: ReadonlyMap<string, readonly string[]>,
  ): Promise<number>
  /** The feature strings of the queued items that have some, by id. */
  pendingFeatures(): Promise<Map<string, string[]>>
  clearPendingItems(): Promise<void>
}

/**
 * The feature strings of a `pending_items.features` column (a JSON array of strings), checked.
 * @example featuresFromJson('["cat:mugs"]', 'sku-1') // ['cat:mugs']
 */
export function featuresFromJson(json: string, itemId: string): string[] {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    value = undefined
  }
  if (!Array.isArray(value) || !value.every((f) => typeof f === 'string'))
    throw new StoreCorruptError(`pending_items.features of ${itemId}: expected a JSON array of strings`)
  return value
}
