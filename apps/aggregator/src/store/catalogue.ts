/** Item ids the operator queued: they join the model's catalogue when the current round closes. */

/** The queue of items waiting to join the catalogue. */
export interface CatalogueStore {
  /** Queued ids, in the order they were queued. */
  pendingItems(): Promise<string[]>
  /** Queues ids that are neither in the catalogue nor pending; returns how many were new. */
  queueItems(itemIds: readonly string[], queuedAt: string): Promise<number>
  clearPendingItems(): Promise<void>
}
