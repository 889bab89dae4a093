// The shopper's pause switch for learning, kept in IndexedDB for the whole device.
import { type FedrecDatabase, isStoredLearningSettings } from './db.ts'
import { FedrecError } from './errors.ts'

/** See {@link createLearningSwitch}. */
export interface LearningSwitch {
  /** Whether learning is paused, read again from IndexedDB. */
  read(): Promise<boolean>
  /** Pauses or resumes learning on this device. */
  set(paused: boolean): Promise<void>
}

/**
 * The pause switch. Read again before every track and sync, not only at start: another tab of the shop
 * (or its privacy panel) may have paused learning since, and a pause must hold on the whole device at once.
 * @example const learning = createLearningSwitch(db); if (await learning.read()) return
 */
export function createLearningSwitch(db: FedrecDatabase): LearningSwitch {
  let paused = false
  return {
    async read() {
      try {
        const stored: unknown = await db.get('settings', 'learning')
        paused = isStoredLearningSettings(stored) && stored.paused
      } catch {
        // An unreadable switch keeps the last known state; the shopper can set it again.
      }
      return paused
    },
    async set(value) {
      try {
        await db.put('settings', { key: 'learning', paused: value })
      } catch (cause) {
        throw new FedrecError('storage', `could not store the pause switch: ${String(cause)}`, { cause })
      }
      paused = value
    },
  }
}
