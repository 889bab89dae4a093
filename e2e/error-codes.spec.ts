// Proves a failed sync names its real cause (server error, damaged model) instead of a vaguer one.
import Database from 'better-sqlite3'
import { expect, tasteProfiles, test } from './kit/index.ts'

// What a shop and QA see when a sync fails must say which way it failed: an aggregator that answers 500 is
// not "unreachable", and a damaged model is not an internal bug of the library. Real Chromium, real
// aggregator processes; the faults are real ones (a SQLite write that fails, bytes damaged on the wire).

test('an aggregator that answers 500 reaches the caller as server_error, not as unreachable', async ({
  qa,
}) => {
  const agg = await qa.aggregator({ minClients: 3, seed: 21 })
  const [profile] = tasteProfiles({ shoppers: 1, products: qa.products, events: 8, seed: 7 })
  const shopper = await qa.shopper(agg, profile!)
  // Every write of an update fails inside SQLite (as on a failing disk): the aggregator answers 500.
  await agg.stop()
  const db = new Database(agg.storePath)
  db.exec(`CREATE TRIGGER test_updates_fail BEFORE INSERT ON updates
    BEGIN SELECT RAISE(ABORT, 'test: the update cannot be written'); END`)
  db.close()
  await agg.start()

  const outcome = await shopper.trySync()
  expect(outcome.ok).toBe(false)
  if (outcome.ok) return
  expect(outcome.error.code).toBe('server_error')
  expect(outcome.error.message).toMatch(/answered 500 internal .* it is up but failing/)
  const uploads = shopper.requestsTo('v1/updates', 'POST')
  expect(uploads.length).toBeGreaterThan(1)
  expect(uploads.every((t) => t.status === 500)).toBe(true)
})

test('model bytes damaged on the way reach the caller as corrupt_model, not as internal', async ({ qa }) => {
  // A quorum of one: the shopper's first sync publishes version 1, which its next sync has to download.
  const agg = await qa.aggregator({ minClients: 1, seed: 22 })
  const [profile] = tasteProfiles({ shoppers: 1, products: qa.products, events: 8, seed: 8 })
  const shopper = await qa.shopper(agg, profile!)
  expect((await shopper.sync()).uploaded).toBe(true)
  await agg.waitForModelVersion(1)
  const uploadsBefore = shopper.requestsTo('v1/updates', 'POST').length
  // A proxy on the way flips one byte of every answer of the real aggregator's model endpoint (the patch
  // from version 0 and the whole model the library falls back to).
  await shopper.context.route(
    (url) => url.pathname.endsWith('/v1/model'),
    async (route) => {
      const response = await route.fetch()
      const body = Buffer.from(await response.body())
      body[body.length >> 1]! ^= 0x10
      await route.fulfill({ response, body })
    },
  )

  const outcome = await shopper.trySync()
  expect(outcome.ok).toBe(false)
  if (outcome.ok) return
  expect(outcome.error.code).toBe('corrupt_model')
  expect(outcome.error.message).toMatch(/the model the aggregator sent does not decode \(.*checksum/)
  // Nothing was trained on it, so nothing was uploaded.
  expect(shopper.requestsTo('v1/updates', 'POST')).toHaveLength(uploadsBefore)
})
