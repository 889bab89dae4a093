// Rounds on SQLite: an operator reset moves the round's updates to discarded_updates and counts them; only
// an open round closes or resets.
import { describe, expect, it } from 'vitest'
import { StoreCorruptError } from '../rows.ts'
import { freshStore } from '../test-store.ts'
import type { UpdateRecord } from '../updates.ts'

const update = (key: string, clientHash: string, norm: number): UpdateRecord => ({
  idempotencyKey: key,
  clientHash,
  round: 0,
  sampleCount: 3,
  payload: new Uint8Array([1, 2, 3]),
  ack: '{"accepted":true}',
  receivedAt: '2026-01-01T00:00:01.000Z',
  norm,
  clipped: norm > 1,
})

const closing = {
  closedAt: '2026-01-01T00:05:00.000Z',
  closedBy: 'quorum',
  participants: 1,
  samples: 3,
  updateNorm: 0.5,
  clientNormMean: 0.5,
  clientNormMax: 0.5,
  clipped: 0,
} as const

describe('sqliteRounds', () => {
  it('resetRound discards the accepted updates, keeps their keys and reopens the round', async () => {
    const store = await freshStore()
    await store.insertUpdate(update('k1', 'c1', 0.5))
    await store.insertUpdate(update('k2', 'c2', 2))
    expect(await store.roundNorms(0)).toEqual({ mean: 1.25, max: 2, clipped: 1 })
    const at = '2026-01-01T00:03:00.000Z'
    expect(await store.resetRound(0, { at, deadline: '2026-01-01T00:13:00.000Z' })).toBe(2)
    expect(await store.findUpdate('k1')).toBeUndefined()
    expect(await store.findDiscarded('k2')).toEqual({ clientHash: 'c2', round: 0 })
    expect(await store.openRound()).toMatchObject({ openedAt: at, resets: 1, discarded: 2 })
    expect(await store.roundNorms(0)).toEqual({ mean: 0, max: 0, clipped: 0 })
    await store.close()
  })

  it('closes the open round once, with its DP parameters for the accountant', async () => {
    const store = await freshStore()
    const dp = { noiseMultiplier: 1.1, sampleRate: 0.01, clipNorm: 1 }
    await store.closeRound(0, { ...closing, dp })
    await expect(store.closeRound(0, closing)).rejects.toThrow(StoreCorruptError)
    await expect(store.openRound()).rejects.toThrow('expected one open round, found 0')
    expect(await store.privacyRounds()).toEqual([{ round: 0, participants: 1, dp }])
    expect(await store.history(10)).toMatchObject([{ round: 0, closedBy: 'quorum', samples: 3 }])
    await store.close()
  })
})
