/** A fresh, initialised store for the table groups' tests: items a and b, round 0 open. */
import { openRecord } from '../aggregator/round-records.ts'
import { type CohortRecord, openStore, type Store } from './index.ts'

const AT = '2026-01-01T00:00:00.000Z'

/**
 * Opens `path` (in memory by default) as a new store and initialises it.
 * @example const store = await freshStore(); await store.queueItems(['c'], at)
 */
export async function freshStore(path = ':memory:'): Promise<Store> {
  const store = openStore(path, { create: true })
  if (!store.isNew) throw new Error(`${path} is not a new store`)
  await store.initialise({
    meta: { salt: 'test' },
    model: {
      version: 0,
      round: 0,
      dim: 2,
      itemIds: ['a', 'b'],
      itemEmbedding: new Float32Array([0.5, -0.5, 0.25, 1]),
      itemBias: new Float32Array([0, 0.125]),
      createdAt: AT,
    },
    round: openRecord(0, 0, Date.parse(AT), 10 * 60_000),
  })
  return store
}

/** Cohort 1 of round 0, just opened (advertise phase). */
export const firstCohort: CohortRecord = {
  cohort: 1,
  round: 0,
  sessionId: 's1',
  phase: 'advertise',
  phaseDeadline: '2026-01-01T00:01:00.000Z',
  openedAt: AT,
  closedAt: null,
  abortReason: null,
  survivors: null,
}
