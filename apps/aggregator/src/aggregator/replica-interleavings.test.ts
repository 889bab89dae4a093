// Two aggregators (in this process) on one real PostgreSQL store, with the other replica's commit forced
// into the gaps between one replica's reads of an upload or an evaluation report. The replica tests (real processes) send the same
// update to two replicas at once, which hits each gap only now and then (CI hit the second below, as a 409).
import { newRandomId, parseUpdateAck } from '@fedrec/protocol'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Store } from '../store/index.ts'
import { startPostgres, type TestPostgres } from '../store/postgres/test-postgres.ts'
import { catalogueOf, makeUpdate } from '../test-support.ts'
import { type Aggregator, createAggregator } from './index.ts'

/** Runs before the store's answer to a read is handed back: where a test puts the other replica's commit. */
type Read = 'findUpdate' | 'hasClientSubmitted' | 'findEvaluation' | 'hasClientEvaluated'
type Gap = (read: Read) => Promise<void>
const gaps = new Map<Store, Gap>()
let lastOpened: Store | undefined

// The real store, its four reads wrapped so a test can run something between a read and its answer.
vi.mock('../store/open.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../store/open.ts')>()
  return {
    ...real,
    openStoreAt: async (...args: Parameters<typeof real.openStoreAt>) => {
      const store = await real.openStoreAt(...args)
      const wrap = (name: Read) => {
        const read = store[name].bind(store) as (...a: unknown[]) => Promise<unknown>
        Object.assign(store, {
          [name]: async (...a: unknown[]) => {
            const answer = await read(...a)
            await gaps.get(store)?.(name)
            return answer
          },
        })
      }
      for (const read of [
        'findUpdate',
        'hasClientSubmitted',
        'findEvaluation',
        'hasClientEvaluated',
      ] as const)
        wrap(read)
      lastOpened = store
      return store
    },
  }
})

const DIM = 4
let server: TestPostgres
beforeAll(async () => {
  server = await startPostgres()
}, 120_000)
afterAll(() => server?.stop(), 60_000)

const running: Aggregator[] = []
afterEach(async () => {
  gaps.clear()
  for (const a of running.splice(0)) await a.close()
})

/** Replicas A and B on a fresh schema, and B's store (where the gaps are put). */
async function twoReplicas(): Promise<{ a: Aggregator; b: Aggregator; storeB: Store }> {
  const url = await server.schema()
  const options = {
    catalogue: catalogueOf(20),
    dim: DIM,
    seed: 3,
    minClients: 100,
    deadlineTimer: false,
    negativesPerPositive: 1000,
  }
  const a = await createAggregator({ ...options, store: url })
  running.push(a)
  const b = await createAggregator({ ...options, store: url, createStore: false })
  running.push(b)
  return { a, b, storeB: lastOpened! }
}

const upload = (clientId = newRandomId()) =>
  makeUpdate({ round: 0, modelVersion: 0, sampleCount: 2, dim: DIM, bias: [[1, [0.1]]], clientId })

describe('one update at two replicas, the other replica committing it in a gap of this one', () => {
  for (const read of ['findUpdate', 'hasClientSubmitted'] as const) {
    it(`answers with the first ack, as a duplicate, when the other commits it right after ${read}`, async () => {
      const { a, b, storeB } = await twoReplicas()
      const one = upload()
      let firstAck: Promise<unknown> | undefined
      gaps.set(storeB, async (at) => {
        if (at !== read || firstAck) return
        firstAck = a.submit(one.bytes)
        await firstAck
      })
      const ackB = await b.submit(one.bytes)
      expect(firstAck, `the gap after ${read} was reached`).toBeDefined()
      const ackA = parseUpdateAck(await firstAck)
      expect(ackA.duplicate).toBe(false)
      expect(ackB).toEqual({ ...ackA, duplicate: true })
      expect(await b.status()).toMatchObject({ round: 0, participants: 1 })
    })
  }

  it('refuses a second update of the client as already submitted when the first is committed in the gap', async () => {
    const { a, b, storeB } = await twoReplicas()
    const clientId = newRandomId()
    let first: Promise<unknown> | undefined
    gaps.set(storeB, async (at) => {
      if (at !== 'findUpdate' || first) return
      first = a.submit(upload(clientId).bytes)
      await first
    })
    await expect(b.submit(upload(clientId).bytes)).rejects.toMatchObject({ code: 'already_submitted' })
    expect(await b.status()).toMatchObject({ round: 0, participants: 1 })
  })
})

describe('one evaluation report at two replicas, the other replica committing it in a gap of this one', () => {
  /** A client with an accepted update in round 0 (through A), and a report of it on model version 0. */
  async function participant(a: Aggregator) {
    const clientId = newRandomId()
    await a.submit(upload(clientId).bytes)
    return (idempotencyKey = newRandomId()) => ({
      round: 0,
      modelVersion: 0,
      clientId,
      idempotencyKey,
      users: 1,
      hits10: 1,
      ndcg10: 1,
    })
  }

  for (const read of ['findEvaluation', 'hasClientEvaluated'] as const) {
    it(`answers as a duplicate, counted once, when the other stores it right after ${read}`, async () => {
      const { a, b, storeB } = await twoReplicas()
      const report = (await participant(a))()
      let first: Promise<unknown> | undefined
      gaps.set(storeB, async (at) => {
        if (at !== read || first) return
        first = a.evaluate(report)
        await first
      })
      expect(await b.evaluate(report)).toEqual({ accepted: true, modelVersion: 0, duplicate: true })
      expect(await first).toEqual({ accepted: true, modelVersion: 0, duplicate: false })
      expect((await b.status()).evaluations).toEqual([expect.objectContaining({ modelVersion: 0, users: 1 })])
    })
  }

  it('refuses a second report of the client as already evaluated when the first is stored in a gap', async () => {
    const { a, b, storeB } = await twoReplicas()
    const report = await participant(a)
    let first: Promise<unknown> | undefined
    gaps.set(storeB, async (at) => {
      if (at !== 'hasClientEvaluated' || first) return
      first = a.evaluate(report())
      await first
    })
    await expect(b.evaluate(report())).rejects.toMatchObject({ code: 'already_evaluated' })
    expect((await b.status()).evaluations).toEqual([expect.objectContaining({ modelVersion: 0, users: 1 })])
  })
})
