/** The `Store` contract's part for the smaller groups: evaluations, rejections, the catalogue queue, secure aggregation. */
import { describe, expect, it } from 'vitest'
import type { EvaluationReport } from './evaluations.ts'
import type { CohortRecord } from './secagg.ts'
import type { Store } from './store.ts'

const report = (key: string, clientHash: string, modelVersion: number, users: number): EvaluationReport => ({
  idempotencyKey: key,
  clientHash,
  modelVersion,
  users,
  hits10: users * 0.5,
  ndcg10: users * 0.25,
  receivedAt: '2026-03-01T00:01:00.000Z',
})

const cohort1: CohortRecord = {
  cohort: 1,
  round: 0,
  sessionId: 'session-1',
  phase: 'advertise',
  phaseDeadline: '2026-03-01T00:01:00.000Z',
  openedAt: '2026-03-01T00:00:00.000Z',
  closedAt: null,
  abortReason: null,
  survivors: null,
}

const member = (id: number) => ({
  cohort: 1,
  id,
  clientHash: `client-${id}`,
  tokenHash: `token-${id}`,
  cPublicKey: `c-key-${id}`,
  sPublicKey: `s-key-${id}`,
})

/**
 * Defines the smaller groups' tests; `fresh` gives an initialised store (closed by the caller's suite).
 * @example describeTableContract('PostgreSQL', fresh)
 */
export function describeTableContract(name: string, fresh: () => Promise<Store>): void {
  describe(`${name} store: evaluations`, () => {
    it('sums reports per model version, once per key and client, and prunes old keys', async () => {
      const store = await fresh()
      await store.insertEvaluation(report('e1', 'c1', 1, 4))
      await store.insertEvaluation(report('e2', 'c2', 1, 2))
      await store.insertEvaluation(report('e3', 'c1', 2, 8))
      await expect(store.insertEvaluation(report('e1', 'c3', 1, 100))).rejects.toThrow()
      await expect(store.insertEvaluation(report('e4', 'c2', 1, 100))).rejects.toThrow()
      expect(await store.evaluations(10)).toEqual([
        { modelVersion: 1, users: 6, hits10: 3, ndcg10: 1.5 },
        { modelVersion: 2, users: 8, hits10: 4, ndcg10: 2 },
      ])
      expect((await store.evaluations(1)).map((e) => e.modelVersion)).toEqual([2])
      expect(await store.findEvaluation('e2')).toEqual({ clientHash: 'c2', modelVersion: 1 })
      expect(await store.findEvaluation('e4')).toBeUndefined()
      expect(await store.hasClientEvaluated(1, 'c1')).toBe(true)
      expect(await store.hasClientEvaluated(2, 'c2')).toBe(false)
      expect(await store.pruneEvaluationKeys(2)).toBe(2)
      expect(await store.findEvaluation('e1')).toBeUndefined()
      expect(await store.evaluations(10)).toHaveLength(2)
    })
  })

  describe(`${name} store: rejections`, () => {
    it('adds to the counters by error code', async () => {
      const store = await fresh()
      expect(await store.rejections()).toEqual({})
      await store.addRejections(new Map([['too_large', 2]]))
      await store.addRejections(
        new Map([
          ['too_large', 3],
          ['stale_model', 1],
        ]),
      )
      await store.addRejections(new Map())
      expect(await store.rejections()).toEqual({ stale_model: 1, too_large: 5 })
    })
  })

  describe(`${name} store: catalogue queue`, () => {
    it('queues only ids new to the catalogue and the queue, in order, until cleared', async () => {
      const store = await fresh()
      const at = '2026-03-01T00:00:00.000Z'
      expect(await store.queueItems(['z', 'i1', 'd', 'z'], at)).toBe(2)
      expect(await store.queueItems(['d', 'a'], at)).toBe(1)
      expect(await store.queueItems([], at)).toBe(0)
      expect(await store.pendingItems()).toEqual(['z', 'd', 'a'])
      await store.clearPendingItems()
      expect(await store.pendingItems()).toEqual([])
    })
  })

  describe(`${name} store: secure aggregation`, () => {
    it('keeps a cohort’s messages and masked inputs until it ends, and knows who contributed', async () => {
      const { secAgg: sa } = await fresh()
      expect(await sa.latestCohort()).toBeUndefined()
      await sa.insertCohort(cohort1)
      await sa.insertMember(member(0))
      await sa.insertMember(member(1))
      await expect(sa.insertMember({ ...member(2), tokenHash: 'token-0' })).rejects.toThrow()
      await sa.insertMessage(1, 0, 'shares', '{"to":1}')
      await sa.insertMessage(1, 1, 'shares', '{"to":0}')
      await sa.insertMessage(1, 0, 'unmask', '{"u":0}')
      await sa.setMasked(1, 0, new Uint8Array([9, 8]))
      await sa.setPhase(1, 'mask', '2026-03-01T00:02:00.000Z')
      expect(await sa.cohort(1)).toEqual({
        ...cohort1,
        phase: 'mask',
        phaseDeadline: '2026-03-01T00:02:00.000Z',
      })
      expect(await sa.cohort(2)).toBeUndefined()
      expect(await sa.memberByToken(1, 'token-0')).toMatchObject({
        shared: true,
        uploaded: true,
        unmasked: true,
      })
      expect(await sa.memberByClient(1, 'client-1')).toMatchObject({
        shared: true,
        uploaded: false,
        masked: null,
      })
      expect(await sa.memberByClient(1, 'client-9')).toBeUndefined()
      expect(Array.from((await sa.memberByClient(1, 'client-0'))?.masked ?? [])).toEqual([9, 8])
      expect(await sa.message(1, 0, 'shares')).toBe('{"to":1}')
      expect(await sa.message(1, 1, 'unmask')).toBeUndefined()
      expect(await sa.messages(1, 'shares')).toEqual([
        { id: 0, body: '{"to":1}' },
        { id: 1, body: '{"to":0}' },
      ])
      expect(await sa.contributed(0, 'client-0')).toBe(false)

      await sa.endCohort(1, { phase: 'done', at: '2026-03-01T00:04:00.000Z', reason: null, survivors: 1 })
      expect(await sa.latestCohort()).toMatchObject({
        phase: 'done',
        survivors: 1,
        closedAt: '2026-03-01T00:04:00.000Z',
      })
      expect(await sa.messages(1, 'shares')).toEqual([])
      expect((await sa.members(1)).map((m) => [m.id, m.masked])).toEqual([
        [0, null],
        [1, null],
      ])
      expect(await sa.contributed(0, 'client-0')).toBe(true)
      expect(await sa.contributed(0, 'client-1')).toBe(false)
      expect(await sa.contributed(1, 'client-0')).toBe(false)

      expect(await sa.pruneMembers('2026-03-01T00:04:00.000Z')).toBe(0)
      expect(await sa.pruneMembers('2026-03-01T00:05:00.000Z')).toBe(2)
      expect(await sa.members(1)).toEqual([])
    })
  })
}
