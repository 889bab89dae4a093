// QA scenario: a sync cut off by a page load resumes with the stored update, counted once by the aggregator.
import { expect, reloadDuringUpload, test } from '../kit/index.ts'

// A multi-page shop loads a new page on every link: a sync still running then dies with its worker. The update
// is stored before it is sent, so the next sync of the same round sends the same bytes again (same idempotency
// key) instead of training again, and the aggregator counts it once.

for (const reached of [true, false]) {
  const when = reached ? 'after its upload reached the aggregator' : 'before its upload left the browser'
  test(`a sync cut off by a page load ${when} resumes with the same update, counted once`, {
    tag: '@navigation',
  }, async ({ qa }) => {
    const population = qa.population(2)
    // A quorum of two keeps the round open while the first shopper comes back.
    const agg = await qa.aggregator({ minClients: 2, catalogue: population.catalogue })
    const shopper = await qa.shopper(agg, population.profiles[0]!)
    const before = await agg.status()

    const cut = await reloadDuringUpload(shopper, { reached })
    const interrupted = await shopper.trySync()
    expect(interrupted.ok).toBe(false)
    expect(await cut()).toBe(reached ? 200 : null)
    expect((await agg.status()).participants).toBe(reached ? 1 : 0)

    const resumed = await shopper.sync()
    expect(resumed).toMatchObject({ round: before.round, uploaded: true, resumed: true })
    expect(resumed.samples).toBeGreaterThan(0)
    expect(resumed.phases!.train).toBe(0)
    const posts = shopper.requestsTo('v1/updates', 'POST')
    expect(posts).toHaveLength(2)
    expect(posts[1]!.request.postDataBuffer()!.equals(posts[0]!.request.postDataBuffer()!)).toBe(true)
    expect((await agg.status()).participants).toBe(1)

    // The round closes with both shoppers, the resumed update counted once; the next round trains afresh.
    const other = await qa.shopper(agg, population.profiles[1]!)
    await other.sync()
    await expect.poll(async () => (await agg.status()).round).toBe(before.round + 1)
    expect((await agg.status()).history.at(-1)!.participants).toBe(2)
    const next = await shopper.sync()
    expect(next).toMatchObject({ round: before.round + 1, uploaded: true })
    expect(next.resumed).toBeUndefined()
    expect(next.phases!.train).toBeGreaterThan(0)
    expect(shopper.errors).toEqual([])
  })
}
