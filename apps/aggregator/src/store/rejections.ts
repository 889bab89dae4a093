/** Counters of refused uploads by error code, since the store was created. */

/** The rejection counters. */
export interface RejectionStore {
  /** Adds to the rejection counters. */
  addRejections(counts: ReadonlyMap<string, number>): Promise<void>
  /** Every counter, by error code. */
  rejections(): Promise<Record<string, number>>
}
