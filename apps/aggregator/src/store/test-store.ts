/** A fresh, initialised store for the table groups' tests: items a and b, round 0 open. */
import { type CohortRecord, openStore, type Store } from './index.ts'

const AT = '2026-01-01T00:00:00.000Z'

/**
 * Opens `path` (in memory by default) as a new store and initialises it.
 * @example const store = freshStore(); store.queueItems(['c'], at)
 */
export function freshStore(path = ':memory:'): Store {
  const store = openStore(path, { create: true })
  if (!store.isNew) throw new Error(`${path} is not a new store`)
  store.initialise({
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
    round: {
      round: 0,
      modelVersion: 0,
      openedAt: AT,
      deadline: '2026-01-01T00:10:00.000Z',
      closedAt: null,
      closedBy: null,
      participants: null,
      samples: null,
      updateNorm: null,
      clientNormMean: null,
      clientNormMax: null,
      clipped: null,
      resets: 0,
      discarded: 0,
    },
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
