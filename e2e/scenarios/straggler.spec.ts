// QA scenario: an upload that arrives after its round closed is refused clearly and counts in the next round.
import { expect, holdUploads, test } from '../kit/index.ts'

test('a straggler whose upload arrives after the round closed is refused clearly, then counts in the next round', {
  tag: '@straggler',
}, async ({ qa }) => {
  const n = Math.max(3, qa.options.shoppers ?? 3)
  const recorder = qa.recorder('straggler')
  const population = qa.population(n)
  // Quorum: everyone but the straggler.
  const agg = await qa.aggregator({ minClients: n - 1, catalogue: population.catalogue })
  const [straggler, ...punctual] = await qa.shoppers(agg, population.profiles)
  const before = await agg.status()

  // The straggler trains, but its upload sits on a slow link until the others have closed the round.
  const slow = await holdUploads(straggler!)
  const late = straggler!.trySync()
  await slow.held
  const record = await qa.round(agg, punctual)
  expect(record.closedBy).toBe('quorum')
  expect(record.participants).toBe(n - 1)
  await slow.release()
  const outcome = await late

  // The late upload got a clear answer: 409 round_closed, with a JSON error body.
  const [first, retry, ...more] = straggler!.requestsTo('v1/updates', 'POST')
  expect(more).toEqual([])
  const refused = await first!.request.response()
  expect(refused?.status()).toBe(409)
  const body: unknown = await refused?.json()
  expect(body).toMatchObject({ error: { code: 'round_closed' } })
  const status = await agg.status()
  expect(status.rejections.round_closed).toBe(1)

  // The library retrained on the new model and its update is the first of the next round.
  expect(outcome.ok, JSON.stringify(outcome)).toBe(true)
  if (!outcome.ok) return
  expect(outcome.report.uploaded).toBe(true)
  expect(outcome.report.round).toBe(before.round + 1)
  expect(outcome.report.modelVersion).toBe(before.modelVersion + 1)
  expect((await retry!.request.response())?.status()).toBe(200)
  expect(status.round).toBe(before.round + 1)
  expect(status.participants).toBe(1)
  recorder.measure('straggler', {
    refusedWith: body,
    recoveredInRound: outcome.report.round,
    ms: Math.round(outcome.report.ms),
    bytesUp: outcome.report.bytesUp,
  })
})
