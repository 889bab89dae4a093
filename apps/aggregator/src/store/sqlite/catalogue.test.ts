// Pending items on SQLite: an id already in the catalogue or already queued is not queued again.
import { expect, it } from 'vitest'
import { freshStore } from '../test-store.ts'

it('queues only ids that are new to the catalogue and the queue, in order', async () => {
  const store = await freshStore()
  const at = '2026-01-01T00:00:00.000Z'
  expect(await store.queueItems(['c', 'a', 'd'], at)).toBe(2)
  expect(await store.queueItems(['d', 'e'], at)).toBe(1)
  expect(await store.pendingItems()).toEqual(['c', 'd', 'e'])
  await store.clearPendingItems()
  expect(await store.pendingItems()).toEqual([])
  await store.close()
})
