// QA scenario: a shopper leaving mid-training does not stall the round; it closes on its deadline without
// them.
import { closeTabAfter, expect, test } from '../kit/index.ts'

const TOKEN = 'qa-dropouts-operator-token'

test('a shopper closes the tab mid-training: the round still closes on its deadline, without it', {
  tag: '@dropouts',
}, async ({ qa }) => {
  const n = qa.options.shoppers ?? 4
  const rounds = qa.options.rounds ?? 1
  // The deadline must not fire while the other shoppers are still training: on a loaded 2-core machine no
  // length is long enough for sure (a fixed 8 + n seconds was hit before three shoppers had uploaded). So the
  // rounds start with a deadline out of reach, the test waits for the state it needs — every other shopper's
  // update in, the dropper's tab gone — and only then the operator brings the deadline forward, which
  // applies to the open round (PATCH /v1/config). The round then closes by its deadline, on the server's
  // timer, as before.
  const far = 3600
  const recorder = qa.recorder('dropouts')
  const population = qa.population(n)
  // Quorum is everyone: with one shopper gone only the deadline can close the round.
  const agg = await qa.aggregator({
    minClients: n,
    roundDeadline: far,
    catalogue: population.catalogue,
    args: ['--operator-token', TOKEN],
  })
  const deadline = (roundDeadlineSeconds: number) =>
    fetch(new URL('v1/config', agg.url), {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ roundDeadlineSeconds }),
    })
  const shoppers = await qa.shoppers(agg, population.profiles)

  for (let r = 0; r < rounds; r++) {
    const dropper = shoppers[r % n]!
    const before = await agg.status()
    const postsBefore = dropper.requestsTo('v1/updates', 'POST').length
    const closed = closeTabAfter(dropper)
    const played = qa.round(agg, shoppers)
    await closed
    await expect.poll(async () => (await agg.status()).participants, { timeout: 10 * 60_000 }).toBe(n - 1)
    expect((await deadline(1)).status).toBe(200)
    const record = await played
    // Back to a deadline out of reach before the next round has anyone in it.
    expect((await deadline(far)).status).toBe(200)

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
  recorder.measure('deadlineSeconds', 1)
})
