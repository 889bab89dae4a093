// Secure aggregation's tables on SQLite: messages mark their member, the end of a cohort drops what it
// relayed, and only an uploaded member of the cohort that closed a round contributed to it.
import { describe, expect, it } from 'vitest'
import { firstCohort, freshStore } from '../test-store.ts'

const member = (id: number) => ({
  cohort: 1,
  id,
  clientHash: `c${id}`,
  tokenHash: `t${id}`,
  cPublicKey: `cpk${id}`,
  sPublicKey: `spk${id}`,
})

describe('sqliteSecAgg', () => {
  it('keeps a cohort’s messages and masked inputs until it ends, and knows who contributed', async () => {
    const { secAgg: sa, close } = await freshStore()
    await sa.insertCohort(firstCohort)
    await sa.insertMember(member(0))
    await sa.insertMember(member(1))
    await sa.insertMessage(1, 0, 'shares', '{"to":1}')
    await sa.setMasked(1, 0, new Uint8Array([9, 8]))
    await sa.setPhase(1, 'mask', '2026-01-01T00:02:00.000Z')
    expect(await sa.memberByToken(1, 't0')).toMatchObject({ shared: true, uploaded: true, unmasked: false })
    expect(Array.from((await sa.memberByClient(1, 'c0'))?.masked ?? [])).toEqual([9, 8])
    expect(await sa.message(1, 0, 'shares')).toBe('{"to":1}')
    expect(await sa.contributed(0, 'c0')).toBe(false)

    await sa.endCohort(1, { phase: 'done', at: '2026-01-01T00:04:00.000Z', reason: null, survivors: 1 })
    expect(await sa.latestCohort()).toMatchObject({ phase: 'done', survivors: 1 })
    expect(await sa.messages(1, 'shares')).toEqual([])
    expect((await sa.members(1)).map((m) => m.masked)).toEqual([null, null])
    expect(await sa.contributed(0, 'c0')).toBe(true)
    expect(await sa.contributed(0, 'c1')).toBe(false)

    expect(await sa.pruneMembers('2026-01-01T00:04:00.000Z')).toBe(0)
    expect(await sa.pruneMembers('2026-01-01T00:05:00.000Z')).toBe(2)
    await close()
  })
})
