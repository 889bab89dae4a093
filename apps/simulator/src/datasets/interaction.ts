// The shape every data-set loader returns, so the split and the simulation never see a file format.
import type { EventType } from '@fedrec/core/client'

/** One thing a shopper did, as read from a data set; ids stay the data set's own strings. */
export interface Interaction {
  user: string
  item: string
  type: EventType
  /** Milliseconds (or any unit that orders the events; only the order is used). */
  timestamp: number
}

/** The data-set formats the simulator reads. */
export type DatasetFormat = 'movielens' | 'online-retail' | 'otto' | 'generic'

/** @example for (const f of DATASET_FORMATS) console.info(f) */
export const DATASET_FORMATS: readonly DatasetFormat[] = Object.freeze([
  'movielens',
  'online-retail',
  'otto',
  'generic',
])

/** What a loader read: the interactions in file order, and the rows it skipped on purpose, by reason. */
export interface LoadedDataset {
  format: DatasetFormat
  path: string
  interactions: Interaction[]
  /** E.g. `{ no_customer_id: 27275, non_positive_quantity: 1287 }`; empty when nothing was skipped. */
  skipped: Record<string, number>
}

/** Guard for a format name from outside (a flag). @example if (!isDatasetFormat(flag)) throw new Error(flag) */
export function isDatasetFormat(x: unknown): x is DatasetFormat {
  return typeof x === 'string' && (DATASET_FORMATS as readonly string[]).includes(x)
}
