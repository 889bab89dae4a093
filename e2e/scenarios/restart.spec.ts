// QA scenario: acknowledged updates survive an aggregator restart or crash mid-round, and clients carry on.
import { expect, holdUploads, test } from '../kit/index.ts'

for (const crash of [false, true]) {
  const how = crash ? 'crashes (SIGKILL)' : 'restarts (SIGTERM)'
  test(`the aggregator ${how} mid-round: acknowledged updates survive and clients carry on`, {
    tag: '@restart',
  }, async ({ qa }) => {
    const n = Math.max(2, qa.options.shoppers ?? 3)
    const recorder = qa.recorder(crash ? 'restart-crash' : 'restart')
    const population = qa.population(n)
    const agg = await qa.aggregator({ minClients: n, catalogue: population.catalogue })
    const shoppers = await qa.shoppers(agg, population.profiles)
    const last = shoppers.at(-1)!
    const first = shoppers.slice(0, -1)
    const before = await agg.status()

    // All but one upload and are acknowledged.
    const acked = await Promise.all(first.map((s) => s.sync()))
    for (const r of acked) expect(r.uploaded).toBe(true)
    const mid = await agg.status()
    expect(mid.participants).toBe(n - 1)

    // The last shopper's upload is on its way when the aggregator goes down and comes back on the same store
    // and port.
    const slow = await holdUploads(last)
    const pending = last.trySync()
    await slow.held
    const down = Date.now()
    if (crash) {
      await agg.stop({ hard: true })
      await agg.start()
    } else {
      await agg.restart()
    }
    const downMs = Date.now() - down
    const restarted = await agg.status()
    expect(restarted.round).toBe(mid.round)
    expect(restarted.modelVersion).toBe(mid.modelVersion)
    expect(restarted.participants).toBe(n - 1)
    expect(restarted.samples).toBe(mid.samples)

    // A shopper that already contributed and syncs again is not counted twice.
    const again = await first[0]!.sync()
    expect(again.uploaded).toBe(false)
    expect((await agg.status()).participants).toBe(n - 1)

    // The held upload reaches the new process and completes the quorum.
    await slow.release()
    const outcome = await pending
    expect(outcome.ok, JSON.stringify(outcome)).toBe(true)
    if (outcome.ok) expect(outcome.report.uploaded).toBe(true)
    const closed = await agg.waitForModelVersion(before.modelVersion + 1)
    const summary = closed.history.find((h) => h.round === before.round)!
    expect(summary.closedBy).toBe('quorum')
    expect(summary.participants).toBe(n)

    // Everybody carries on: the next round runs as usual.
    const record = await qa.round(agg, shoppers)
    expect(record.participants).toBe(n)
    for (const s of record.shoppers) expect(s.uploaded, s.name).toBe(true)
    recorder.measure('restart', { crash, downMs })
  })
}
