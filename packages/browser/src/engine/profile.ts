// The shopper's profile in IndexedDB: read (created or healed), and changed through one write.
import type { FedrecDatabase, StoredProfile } from '../db.ts'
import { healProfile } from '../db.ts'
import { persist } from './persist.ts'

/** The profile record; see {@link createProfileStore}. */
export interface ProfileStore {
  /** The shopper's profile; a missing one is created, a damaged one healed (see `healProfile`) and saved. */
  read(): Promise<StoredProfile>
  /**
   * Reads the profile, applies `edit` and stores the result; `what` names it in a `storage` error.
   * @example await profile.update('the round', (p) => ({ ...p, lastRound: 7 }))
   */
  update(what: string, edit: (profile: StoredProfile) => StoredProfile): Promise<void>
}

export function createProfileStore(db: FedrecDatabase): ProfileStore {
  const write = (what: string, profile: StoredProfile) => persist(what, db.put('profile', profile))

  async function read(): Promise<StoredProfile> {
    const stored: unknown = await db.get('profile', 'self')
    const { profile, damaged } = healProfile(stored)
    if (profile === stored) return profile
    await write('the profile', profile)
    if (damaged.length > 0) {
      // The shop's developer should hear of it once, in words: the device heals and carries on.
      console.warn(
        `fedrec: the profile stored on this device was damaged (${damaged.join(', ')}); it was reset — ${damaged.includes('clientId') ? 'a fresh client id, ' : ''}${damaged.includes('userVector') ? 'the taste profile is learnt again from the history, ' : ''}the history is kept`,
      )
    }
    return profile
  }

  return {
    read,
    async update(what, edit) {
      await write(what, edit(await read()))
    },
  }
}
