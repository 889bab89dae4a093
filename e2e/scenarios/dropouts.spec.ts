import { closeTabAfter, expect, test } from '../kit/index.ts'

test('a shopper closes the tab mid-training: the round still closes on its deadline, without it', {
  tag: '@dropouts',
}, async ({ qa }) => {
  const n = qa.options.shoppers ?? 4
  const rounds = qa.options.rounds ?? 1
  // Long enough for every other shopper's (first, shader-compiling) sync on 2 cores, short enough for CI.
  const deadline = 8 + n
  const recorder = qa.recorder('dropouts')
  const population = qa.population(n)
  // Quorum is everyone: with one shopper gone only the deadline can close the round.
  const agg = await qa.aggregator({ minClients: n, roundDeadline: deadline, catalogue: population.catalogue })
  const shoppers = await qa.shoppers(agg, population.profiles)

  for (let r = 0; r < rounds; r++) {
    const dropper = shoppers[r % n]!
    const before = await agg.waitForDeadlineWindow((deadline - 2) * 1000)
    const postsBefore = dropper.requestsTo('v1/updates', 'POST').length
    const closed = closeTabAfter(dropper)
    const record = await qa.round(agg, shoppers)
    await closed

    expect(record.round).toBe(before.round)
    expect(record.closedBy).toBe('deadline')
    expect(record.participants).toBe(n - 1)
    expect(record.publishedVersion).toBe(before.modelVersion + 1)
    const mine = record.shoppers.find((s) => s.name === dropper.name)!
    expect(mine.uploaded).toBe(false)
    expect(mine.error).toMatch(/TabClosed|closed/i)
    for (const s of record.shoppers.filter((x) => x.name !== dropper.name)) {
      expect(s.error, s.name).toBeUndefined()
      expect(s.uploaded, s.name).toBe(true)
      expect(s.round, s.name).toBe(before.round)
    }
    // The tab died before its upload: the aggregator never heard from it this round.
    expect(dropper.requestsTo('v1/updates', 'POST').length).toBe(postsBefore)
    // The shopper comes back in a new tab: same device, same history, same client id.
    const historyBefore = dropper.profile.events.length
    await dropper.reopen()
    expect((await dropper.history()).length).toBeGreaterThanOrEqual(historyBefore)
  }
  const status = await agg.status()
  expect(status.history.map((h) => h.closedBy)).toEqual(Array(rounds).fill('deadline'))
  expect(status.history.map((h) => h.participants)).toEqual(Array(rounds).fill(n - 1))
  recorder.measure('deadlineSeconds', deadline)
})
