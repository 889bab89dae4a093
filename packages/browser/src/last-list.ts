// The widget's memory of its last personal list, so a repeat page view shows recommendations without waiting.
import { type DBSchema, openDB } from 'idb'
import type { Because, Suggestion } from './suggest.ts'

/**
 * The widget's last personal list, kept on the device so that a repeat page view shows it at once (from
 * IndexedDB, on the main thread) instead of waiting 1–3 s for the worker and tfjs, then refreshes it.
 * Only item ids and their "why this?" neighbours: what the page showed anyway.
 */
export interface LastList {
  /** What the list was for, e.g. 'for-you'. */
  key: string
  items: { itemId: string; because: Because | null }[]
  /** The global model version the ranking came from. */
  modelVersion: number
  savedAt: number
}

interface LastListDB extends DBSchema {
  lists: { key: string; value: LastList }
}

// A database of its own beside the recommender's (`<dbName>-lists`), so the recommender's schema and its
// upgrades stay untouched; `forget()` clears it with the rest.
const databaseOf = (dbName: string): string => `${dbName}-lists`

async function open(dbName: string) {
  return openDB<LastListDB>(databaseOf(dbName), 1, {
    upgrade(db) {
      db.createObjectStore('lists', { keyPath: 'key' })
    },
  })
}

/**
 * The list saved under `key`, or null (none, unreadable, or not a list: the store is outside data).
 * @example const last = await readLastList('fedrec', 'for-you')
 */
export async function readLastList(dbName: string, key: string): Promise<LastList | null> {
  const db = await open(dbName)
  try {
    const stored: unknown = await db.get('lists', key)
    return isLastList(stored) ? stored : null
  } finally {
    db.close()
  }
}

/**
 * Keeps a list the widget showed (best first) for the next page view.
 * @example await saveLastList('fedrec', 'for-you', set.items, set.modelVersion)
 */
export async function saveLastList(
  dbName: string,
  key: string,
  items: readonly Suggestion[],
  modelVersion: number,
): Promise<void> {
  const db = await open(dbName)
  try {
    await db.put('lists', {
      key,
      items: items.map(({ itemId, because }) => ({ itemId, because })),
      modelVersion,
      savedAt: Date.now(),
    })
  } finally {
    db.close()
  }
}

/**
 * Erases every saved list (part of `forget()`).
 * @example await eraseLastLists('fedrec')
 */
export async function eraseLastLists(dbName: string): Promise<void> {
  const db = await open(dbName)
  try {
    await db.clear('lists')
  } finally {
    db.close()
  }
}

function isBecause(value: unknown): value is Because | null {
  if (value === null) return true
  if (typeof value !== 'object') return false
  const { itemId, similarity } = value as Record<string, unknown>
  return typeof itemId === 'string' && typeof similarity === 'number'
}

function isLastList(value: unknown): value is LastList {
  if (typeof value !== 'object' || value === null) return false
  const { key, items, modelVersion, savedAt } = value as Record<string, unknown>
  return (
    typeof key === 'string' &&
    typeof modelVersion === 'number' &&
    typeof savedAt === 'number' &&
    Array.isArray(items) &&
    items.every(
      (item: unknown) =>
        typeof item === 'object' &&
        item !== null &&
        typeof (item as { itemId?: unknown }).itemId === 'string' &&
        isBecause((item as { because?: unknown }).because),
    )
  )
}
