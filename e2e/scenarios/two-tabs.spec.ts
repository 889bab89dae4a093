// QA scenario: two tabs of one shopper never train at once nor upload twice for a round.
import { expect, test } from '../kit/index.ts'

test('two tabs of the same shopper: one trains at a time and only one update goes up', {
  tag: '@two-tabs',
}, async ({ qa }) => {
  const recorder = qa.recorder('two-tabs')
  const population = qa.population(2)
  // Quorum of two: the same shopper twice must not close the round; a second shopper does.
  const agg = await qa.aggregator({ minClients: 2, catalogue: population.catalogue })
  const tab1 = await qa.shopper(agg, population.profiles[0]!)
  // Same context: same IndexedDB, same client id; the history was tracked once, by the first tab.
  const tab2 = await qa.shopper(
    agg,
    { ...population.profiles[0]!, name: `${population.profiles[0]!.name} tab 2`, events: [] },
    {
      context: tab1.context,
    },
  )
  const other = await qa.shopper(agg, population.profiles[1]!)
  const before = await agg.status()

  const [a, b] = await Promise.all([tab1.sync(), tab2.sync()])
  const posts = [...tab1.requestsTo('v1/updates', 'POST'), ...tab2.requestsTo('v1/updates', 'POST')]
  expect(posts).toHaveLength(1)
  expect([a.uploaded, b.uploaded].sort()).toEqual([false, true])
  expect(a.round).toBe(before.round)
  expect(b.round).toBe(before.round)
  const [winner, waiter] = a.uploaded ? [tab1, tab2] : [tab2, tab1]
  expect((a.uploaded ? b : a).samples).toBe(0)
  // The waiting tab started its round only after the other tab's upload was acknowledged.
  const upload = winner.requestsTo('v1/updates', 'POST')[0]!
  const waiterRound = waiter.requestsTo('v1/round').at(-1)!
  expect(upload.endedAt).not.toBeNull()
  expect(waiterRound.startedAt).toBeGreaterThanOrEqual(upload.endedAt!)
  expect((await agg.status()).participants).toBe(1)

  const last = await other.sync()
  expect(last.uploaded).toBe(true)
  const closed = await agg.waitForModelVersion(before.modelVersion + 1)
  expect(closed.history.at(-1)!.participants).toBe(2)
  expect(closed.rejections.already_submitted ?? 0).toBe(0)
  recorder.measure('twoTabs', {
    winnerMs: Math.round((a.uploaded ? a : b).ms),
    waiterMs: Math.round((a.uploaded ? b : a).ms),
  })
})
