// The device's IndexedDB store (history, profile, pending upload, cached model): its schema, upgrades,
// and the guards and healing every record read from it passes.
import { isRandomId, newRandomId } from '@fedrec/protocol'
import { type DBSchema, type IDBPDatabase, openDB } from 'idb'
import { type EventType, isEventType } from './events.ts'

/** One thing the shopper did, as kept on the device. Never sent anywhere. */
export interface StoredEvent {
  id?: number
  type: EventType
  itemId: string
  /** Milliseconds since the epoch. */
  ts: number
  /** Where the interaction came from, e.g. 'widget' for a click on a recommendation. */
  source?: string
}

/** The shopper's private state: the opaque client id and the user vector. Neither leaves as such. */
export interface StoredProfile {
  key: 'self'
  clientId: string
  /** The private user vector, or null before the first training. */
  userVector: Float32Array | null
  /** The last round this device uploaded an update for. */
  lastRound: number | null
  /**
   * Row padding (docs/privacy.md): the secret seed new pseudo-items are drawn with, and the last round's
   * pseudo-items, kept so that the aggregator cannot tell them from real items by linking rounds.
   */
  padSeed?: number
  pseudoItems?: number[]
  /**
   * The encoded update of a round, kept from just before its upload until its ack, so a sync cut off by a
   * navigation resends the same bytes (same idempotency key) instead of training again.
   */
  pendingUpload?: PendingUpload
}

/** An update stored before its upload: what the next sync of the same round sends again. */
export interface PendingUpload {
  round: number
  modelVersion: number
  /** The update as sent (`encodeUpdate`), idempotency key included. */
  bytes: Uint8Array<ArrayBuffer>
  /** n_k and the loss of the training that made it, for the sync report. */
  samples: number
  loss: number
}

/** The last downloaded global model, as its wire bytes (checksummed, so a damaged record is caught on read). */
export interface StoredModel {
  key: 'current'
  modelVersion: number
  etag: string
  bytes: ArrayBuffer
}

/** The typed schema of the local database (`idb`). Bump DB_VERSION and extend `upgrade` to change it. */
export interface FedrecDB extends DBSchema {
  events: { key: number; value: StoredEvent; indexes: { byItem: string; byTs: number } }
  profile: { key: 'self'; value: StoredProfile }
  model: { key: 'current'; value: StoredModel }
  settings: { key: 'learning'; value: StoredLearningSettings }
}

/** The shopper's own switches (schema version 2). Not a trace of shopping, so `forget()` keeps it. */
export interface StoredLearningSettings {
  key: 'learning'
  /** Paused by the shopper: nothing is recorded and nothing is synced. */
  paused: boolean
}

export function isStoredLearningSettings(x: unknown): x is StoredLearningSettings {
  if (typeof x !== 'object' || x === null) return false
  const r = x as Record<string, unknown>
  return r.key === 'learning' && typeof r.paused === 'boolean'
}

export const DB_VERSION = 2
export const DEFAULT_DB_NAME = 'fedrec'
export type FedrecDatabase = IDBPDatabase<FedrecDB>

/**
 * Opens (and creates or upgrades) the shopper's local database. The page and the worker each open their
 * own connection; both close theirs when another tab needs to upgrade the schema.
 * @example const db = await openFedrecDB('fedrec')
 */
export async function openFedrecDB(name: string = DEFAULT_DB_NAME): Promise<FedrecDatabase> {
  // Another tab holding an older schema open, and not letting go, blocks the upgrade indefinitely: say so at
  // once instead of hanging. The upgrade stays queued and runs (atomically) once that tab closes; a
  // connection that opens after we gave up is closed again.
  let blockedBy: Error | null = null
  let rejectBlocked: (err: Error) => void = () => undefined
  const blocked = new Promise<never>((_, reject) => {
    rejectBlocked = reject
  })
  const opening = openDB<FedrecDB>(name, DB_VERSION, {
    upgrade(db, oldVersion) {
      // Versioned, cumulative upgrades: each step takes the schema from version n to n + 1.
      if (oldVersion < 1) {
        const events = db.createObjectStore('events', { keyPath: 'id', autoIncrement: true })
        events.createIndex('byItem', 'itemId')
        events.createIndex('byTs', 'ts')
        db.createObjectStore('profile', { keyPath: 'key' })
        db.createObjectStore('model', { keyPath: 'key' })
      }
      if (oldVersion < 2) db.createObjectStore('settings', { keyPath: 'key' })
    },
    blocked(currentVersion) {
      blockedBy = new Error(
        `another tab keeps "${name}" open at schema version ${currentVersion} and blocks the upgrade to ${DB_VERSION}; close or reload that tab`,
      )
      rejectBlocked(blockedBy)
    },
    blocking() {
      // Another tab wants a newer schema: let it, rather than leaving both tabs stuck.
      db.close()
    },
  })
  opening.then(
    (late) => {
      if (blockedBy) late.close()
    },
    () => undefined,
  )
  const db: FedrecDatabase = await Promise.race([opening, blocked])
  return db
}

/** Every local trace, gone: events, profile (client id and user vector) and the cached model. */
export async function clearAll(db: FedrecDatabase): Promise<void> {
  const tx = db.transaction(['events', 'profile', 'model'], 'readwrite')
  await Promise.all([
    tx.objectStore('events').clear(),
    tx.objectStore('profile').clear(),
    tx.objectStore('model').clear(),
    tx.done,
  ])
}

/** Reads the history, oldest first, keeping only well-formed records (the store is outside data too). */
export async function readEvents(db: FedrecDatabase): Promise<StoredEvent[]> {
  const rows: unknown[] = await db.getAllFromIndex('events', 'byTs')
  return rows.filter(isStoredEvent)
}

export function isStoredEvent(x: unknown): x is StoredEvent {
  if (typeof x !== 'object' || x === null) return false
  const r = x as Record<string, unknown>
  return (
    isEventType(r.type) &&
    typeof r.itemId === 'string' &&
    r.itemId.length > 0 &&
    typeof r.ts === 'number' &&
    Number.isFinite(r.ts)
  )
}

// One check per field, shared by the guard and the healing below: a field either passes or is reset.
const PROFILE_FIELDS = {
  // The id goes into every update's header: anything but 32 hex digits fails every upload.
  clientId: (v: unknown) => isRandomId(v),
  // A NaN (or ±Infinity) coordinate makes every score NaN and every training step diverge.
  userVector: (v: unknown) => v === null || (v instanceof Float32Array && v.every(Number.isFinite)),
  lastRound: (v: unknown) => v === null || (Number.isSafeInteger(v) && (v as number) >= 0),
  padSeed: (v: unknown) => v === undefined || Number.isSafeInteger(v),
  pseudoItems: (v: unknown) =>
    v === undefined || (Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && x >= 0)),
  pendingUpload: (v: unknown) => v === undefined || isPendingUpload(v),
} as const satisfies Record<Exclude<keyof StoredProfile, 'key'>, (v: unknown) => boolean>

function isPendingUpload(x: unknown): x is PendingUpload {
  if (typeof x !== 'object' || x === null) return false
  const r = x as Record<string, unknown>
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0
  return (
    count(r.round) &&
    count(r.modelVersion) &&
    r.bytes instanceof Uint8Array &&
    r.bytes.byteLength > 0 &&
    count(r.samples) &&
    typeof r.loss === 'number'
  )
}

export function isStoredProfile(x: unknown): x is StoredProfile {
  if (typeof x !== 'object' || x === null) return false
  const r = x as Record<string, unknown>
  return r.key === 'self' && Object.entries(PROFILE_FIELDS).every(([key, ok]) => ok(r[key]))
}

/**
 * The profile to use from what IndexedDB holds: a valid record as it is; none, a fresh one; a damaged one
 * healed field by field — a client id that is not 32 hex digits gets a fresh one, a user vector with a
 * non-finite value is reset (trained again from scratch), any other bad field is dropped — keeping what is
 * still good (a valid `lastRound` still stops a second upload in the same round). `damaged` names what was
 * reset, empty when nothing was.
 * @example const { profile, damaged } = healProfile(await db.get('profile', 'self'))
 */
export function healProfile(x: unknown): { profile: StoredProfile; damaged: string[] } {
  if (isStoredProfile(x)) return { profile: x, damaged: [] }
  const fresh: StoredProfile = { key: 'self', clientId: newRandomId(), userVector: null, lastRound: null }
  if (x === undefined) return { profile: fresh, damaged: [] }
  if (typeof x !== 'object' || x === null) return { profile: fresh, damaged: ['the whole record'] }
  const r = x as Record<string, unknown>
  const profile: StoredProfile = { ...fresh }
  const damaged: string[] = []
  for (const [key, ok] of Object.entries(PROFILE_FIELDS)) {
    if (ok(r[key])) {
      if (r[key] !== undefined) Object.assign(profile, { [key]: r[key] })
    } else damaged.push(key)
  }
  return { profile, damaged }
}

export function isStoredModel(x: unknown): x is StoredModel {
  if (typeof x !== 'object' || x === null) return false
  const r = x as Record<string, unknown>
  return (
    r.key === 'current' &&
    typeof r.modelVersion === 'number' &&
    typeof r.etag === 'string' &&
    r.bytes instanceof ArrayBuffer
  )
}
