import { newRandomId } from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { healProfile, type StoredProfile } from './db.ts'

const profile = (): StoredProfile => ({
  key: 'self',
  clientId: newRandomId(),
  userVector: null,
  lastRound: 3,
  pendingUpload: { round: 4, modelVersion: 4, bytes: new Uint8Array([1, 2, 3]), samples: 12, loss: 0.5 },
})

describe('healProfile and the update kept for an interrupted sync', () => {
  it('keeps a stored update as it is', () => {
    const stored = profile()
    expect(healProfile(stored)).toEqual({ profile: stored, damaged: [] })
  })

  it.each([
    ['bytes that are not a Uint8Array', { bytes: [1, 2, 3] }],
    ['empty bytes', { bytes: new Uint8Array(0) }],
    ['a negative round', { round: -1 }],
    ['a fractional sample count', { samples: 1.5 }],
    ['a loss that is not a number', { loss: '0.5' }],
  ])('drops a stored update with %s and keeps the rest', (_, bad) => {
    const stored = profile()
    const damaged = { ...stored, pendingUpload: { ...stored.pendingUpload!, ...bad } }
    const healed = healProfile(damaged)
    expect(healed.damaged).toEqual(['pendingUpload'])
    expect(healed.profile.pendingUpload).toBeUndefined()
    expect(healed.profile.clientId).toBe(stored.clientId)
    expect(healed.profile.lastRound).toBe(3)
  })
})
