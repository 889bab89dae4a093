import { decodeModel, newRandomId, parseErrorBody, parseRoundInfo, parseUpdateAck } from '@fedrec/protocol'
import type { Hono } from 'hono'
import { afterEach, expect, it } from 'vitest'
import { createAggregator } from '../aggregator/index.ts'
import { makeUpdate } from '../test-support.ts'
import {
  BASE_OPTIONS,
  closeAfterTest,
  closeApps,
  DIM,
  expectError,
  model,
  post,
  setup,
  status,
  TOKEN,
} from './test-app.ts'
import { describeStores } from './test-stores.ts'

afterEach(closeApps)

describeStores('POST /v1/round/reset', () => {
  const reset = (app: Hono, body?: unknown, token = TOKEN) =>
    app.request('/v1/round/reset', {
      method: 'POST',
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    })
  const update = (clientId: string, bias: number, round = 0) =>
    makeUpdate({ round, modelVersion: round, sampleCount: 2, dim: DIM, clientId, bias: [[1, [bias]]] })

  it('needs the operator token', async () => {
    const { app } = await setup()
    expect((await post(app, update(newRandomId(), 1).bytes)).status).toBe(200)
    const res = await reset(app, undefined, '')
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
    await expectError(res, 401, 'unauthorized')
    await expectError(await reset(app, undefined, 'wrong'), 401, 'unauthorized')
    expect(await status(app)).toMatchObject({ participants: 1, samples: 2, resets: 0 })
  })

  it('discards the open round and reopens it on the same model with a fresh deadline; its clients may send again', async () => {
    const { app, advance } = await setup()
    const before = await model(app)
    const [a, b, c, d] = [newRandomId(), newRandomId(), newRandomId(), newRandomId()]
    // A poisoned-looking round: two huge deltas the operator wants gone.
    expect((await post(app, update(a, 1000).bytes)).status).toBe(200)
    expect((await post(app, update(b, -1000).bytes)).status).toBe(200)
    advance(60_000)
    const res = await reset(app)
    expect(res.status).toBe(200)
    const deadline = new Date(Date.parse('2030-01-01T00:01:00.000Z') + 300_000).toISOString()
    expect(await res.json()).toEqual({ round: 0, modelVersion: 0, discarded: 2, resets: 1, deadline })
    expect(await status(app)).toMatchObject({
      round: 0,
      modelVersion: 0,
      participants: 0,
      samples: 0,
      resets: 1,
      discarded: 2,
      history: [],
    })
    expect(parseRoundInfo(await (await app.request('/v1/round')).json()).config.deadline).toBe(deadline)
    expect(await model(app)).toEqual(before)
    // A client of the discarded round is not `already_submitted`: it sends a new update, once.
    const fresh = [update(a, 0.5), update(c, 0.25), update(d, -0.125)]
    const ack = parseUpdateAck(await (await post(app, fresh[0]!.bytes)).json())
    expect(ack).toMatchObject({ round: 0, participants: 1, duplicate: false })
    await expectError(await post(app, update(a, 0.1).bytes), 409, 'already_submitted')
    for (const u of fresh.slice(1)) expect((await post(app, u.bytes)).status).toBe(200)
    const s = await status(app)
    expect(s).toMatchObject({ round: 1, modelVersion: 1, resets: 0, discarded: 0 })
    expect(s.history).toEqual([
      expect.objectContaining({ round: 0, participants: 3, resets: 1, discarded: 2 }),
    ])
    // The published model holds the three new updates and nothing of the discarded ones.
    const reference = await createAggregator(BASE_OPTIONS)
    closeAfterTest(reference)
    for (const u of fresh) await reference.submit(u.bytes)
    expect(await model(app)).toEqual(decodeModel(reference.model().bytes))
  })

  it('answers a retry of a discarded update with 409 round_reset, never a duplicate ack, and counts nothing', async () => {
    const { app } = await setup()
    const clientId = newRandomId()
    const first = update(clientId, 1)
    expect((await post(app, first.bytes)).status).toBe(200)
    expect(await (await reset(app)).json()).toMatchObject({ discarded: 1 })
    for (let i = 0; i < 2; i++) {
      const res = await post(app, first.bytes)
      expect(res.status).toBe(409)
      const { error } = parseErrorBody(await res.json())
      expect(error.code).toBe('round_reset')
      expect(error.message).toMatch(
        /no longer counts.*train again and send a new update under a new idempotency key/,
      )
    }
    // The key stays the first client's.
    const thief = update(newRandomId(), 1)
    const stolen = makeUpdate({
      ...thief.update,
      dim: DIM,
      bias: [[1, [1]]],
      idempotencyKey: first.update.idempotencyKey,
    })
    await expectError(await post(app, stolen.bytes), 409, 'idempotency_conflict')
    const s = await status(app)
    expect(s).toMatchObject({ participants: 0, samples: 0 })
    expect(s.rejections).toMatchObject({ round_reset: 2, idempotency_conflict: 1 })
    // Under a new key the same client is welcome.
    expect((await post(app, update(clientId, 1).bytes)).status).toBe(200)
  })

  it('with { round } resets only that round while it is open; a body it cannot read changes nothing', async () => {
    const { app } = await setup({ minClients: 2 })
    for (let i = 0; i < 2; i++) expect((await post(app, update(newRandomId(), 1).bytes)).status).toBe(200)
    expect((await post(app, update(newRandomId(), 1, 1).bytes)).status).toBe(200)
    // Round 0 closed on quorum while the operator was deciding: resetting "round 0" must not hit round 1.
    const late = await reset(app, { round: 0 })
    await expectError(late, 409, 'round_closed')
    await expectError(await reset(app, { round: 5 }), 409, 'future_round')
    for (const body of [
      '{x',
      [1],
      { round: -1 },
      { round: 1.5 },
      { round: '1' },
      { round: 1, force: true },
    ]) {
      const res = await reset(app, body)
      expect(res.status).toBe(400)
    }
    expect(await status(app)).toMatchObject({ round: 1, participants: 1, resets: 0 })
    expect(await (await reset(app, { round: 1 })).json()).toMatchObject({ round: 1, discarded: 1, resets: 1 })
    // An empty body or {} resets whatever round is open.
    expect(await (await reset(app, {})).json()).toMatchObject({ round: 1, discarded: 0, resets: 2 })
    expect(await (await reset(app)).json()).toMatchObject({ round: 1, discarded: 0, resets: 3 })
    expect(await status(app)).toMatchObject({ round: 1, modelVersion: 1, resets: 3, discarded: 1 })
  })
})
