// QA scenario: a shopper offline during sync loses nothing, retries with back-off, and gives up clearly.
import { expect, test } from '../kit/index.ts'

test('a shopper offline during sync retries with back-off, loses nothing, and syncs once back online', {
  tag: '@offline',
}, async ({ qa }) => {
  const recorder = qa.recorder('offline')
  const population = qa.population(1)
  // Quorum of one: every accepted upload closes its round.
  const agg = await qa.aggregator({ minClients: 1, catalogue: population.catalogue })
  const shopper = await qa.shopper(agg, population.profiles[0]!)
  const history = await shopper.history()
  const uploads = () => shopper.requestsTo('v1/updates', 'POST')
  const failed = () => uploads().filter((t) => t.failure)

  // 1. The connection drops once the round info is in, i.e. while the worker trains (its model came with the
  //    page): the upload fails and is retried with back-off; the connection comes back after two failures.
  shopper.page.on('requestfinished', function offline(request) {
    if (!request.url().endsWith('/v1/round')) return
    shopper.page.off('requestfinished', offline)
    void shopper.context.setOffline(true)
  })
  const sync = shopper.trySync()
  await expect.poll(() => failed().length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2)
  await shopper.context.setOffline(false)
  const outcome = await sync
  expect(outcome.ok, JSON.stringify(outcome)).toBe(true)
  if (!outcome.ok) return
  expect(outcome.report.uploaded).toBe(true)
  expect(failed()[0]!.failure).toMatch(/INTERNET_DISCONNECTED/)
  // The same update, sent again: one accepted, counted once.
  const [a, b] = uploads()
  expect(a!.request.postDataBuffer()!.equals(b!.request.postDataBuffer()!)).toBe(true)
  const afterFirst = await agg.status()
  expect(afterFirst.history.at(-1)!.participants).toBe(1)

  // 2. Offline for good: the library gives up after its retries with a 'network' error, growing gaps.
  await shopper.context.setOffline(true)
  const attemptsBefore = shopper.requestsTo('v1/round').length
  const lost = await shopper.trySync()
  expect(lost.ok).toBe(false)
  if (lost.ok) return
  expect(lost.error.code).toBe('network')
  const attempts = shopper.requestsTo('v1/round').slice(attemptsBefore)
  expect(attempts.length).toBe(5) // the first try and 4 retries (the default policy)
  for (const t of attempts) expect(t.failure).toBeDefined()
  const gaps = attempts.slice(1).map((t, i) => t.startedAt - attempts[i]!.startedAt)
  // 300 ms doubling with ±25 % jitter: gaps of 225–375, 450–750, 900–1500 and 1800–3000 ms. Asserted with
  // room for event-delivery jitter: the last gap is at least four times the first, and at least 1.8 s.
  expect(gaps).toHaveLength(4)
  expect(gaps.at(-1)!).toBeGreaterThanOrEqual(1800)
  expect(gaps.at(-1)! / gaps[0]!).toBeGreaterThanOrEqual(4)

  // Nothing was lost locally: the history, the trained profile and the cached model are all there.
  await shopper.context.setOffline(false)
  expect(await shopper.history()).toEqual(history)
  const again = await shopper.sync()
  expect(again.uploaded).toBe(true)
  expect(again.round).toBe(afterFirst.round)
  recorder.measure('offline', {
    failedUploadsBeforeRecovery: failed().length,
    giveUpGapsMs: gaps,
    giveUpAfterMs: attempts.at(-1)!.startedAt - attempts[0]!.startedAt,
  })
})
