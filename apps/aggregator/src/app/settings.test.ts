import { parseRoundInfo } from '@fedrec/protocol'
import type { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { makeUpdate } from '../test-support.ts'
import { closeApps, DIM, expectError, post, setup, status, TOKEN } from './test-app.ts'

afterEach(closeApps)

describe('GET and PATCH /v1/config', () => {
  const patch = (app: Hono, body: unknown, token = TOKEN) =>
    app.request('/v1/config', {
      method: 'PATCH',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    })

  it('a new deadline length applies to the open round: its opening plus the length, now at the earliest', async () => {
    const { app, aggregator, advance } = await setup({ roundDeadlineSeconds: 3600 })
    const opened = Date.parse('2030-01-01T00:00:00.000Z')
    expect(
      (await post(app, makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM }).bytes)).status,
    ).toBe(200)
    advance(10_000)
    expect((await patch(app, { roundDeadlineSeconds: 60 })).status).toBe(200)
    expect(aggregator.roundInfo().config.deadline).toBe(new Date(opened + 60_000).toISOString())
    // Shorter than the time already gone: the deadline is now, and the round closes at the next check.
    expect((await patch(app, { roundDeadlineSeconds: 5 })).status).toBe(200)
    expect(aggregator.roundInfo().config.deadline).toBe(new Date(opened + 10_000).toISOString())
    await aggregator.checkDeadline()
    expect((await aggregator.status()).history).toEqual([
      expect.objectContaining({ round: 0, closedBy: 'deadline' }),
    ])
  })

  it('needs the operator token for reading and for changing', async () => {
    const { app } = await setup()
    await expectError(await app.request('/v1/config'), 401, 'unauthorized')
    await expectError(await patch(app, { minClients: 1 }, ''), 401, 'unauthorized')
    await expectError(await patch(app, { minClients: 1 }, 'wrong'), 401, 'unauthorized')
    expect(parseRoundInfo(await (await app.request('/v1/round')).json()).config.minClients).toBe(3)
  })

  it('changes client settings for the next RoundInfo, and a lowered quorum that is met closes the round', async () => {
    const { app } = await setup()
    const read = await app.request('/v1/config', { headers: { Authorization: `Bearer ${TOKEN}` } })
    expect(await read.json()).toMatchObject({
      minClients: 3,
      maxUpdateNorm: 500,
      maxRowNorm: null,
      normPolicy: 'clip',
    })
    const res = await patch(app, {
      learningRate: 0.05,
      localEpochs: 2,
      maxUpdateNorm: 4,
      padRatio: 2,
      updateDtype: 'f32',
    })
    expect(await res.json()).toMatchObject({
      learningRate: 0.05,
      localEpochs: 2,
      maxUpdateNorm: 4,
      padRatio: 2,
      updateDtype: 'f32',
    })
    expect(parseRoundInfo(await (await app.request('/v1/round')).json()).config).toMatchObject({
      learningRate: 0.05,
      localEpochs: 2,
      padRatio: 2,
      updateDtype: 'f32',
    })
    await post(
      app,
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 2, dim: DIM, bias: [[0, [8]]] }).bytes,
    )
    expect((await patch(app, { minClients: 1 })).status).toBe(200)
    const s = await status(app)
    expect(s).toMatchObject({ round: 1, modelVersion: 1 })
    expect(s.history[0]).toMatchObject({ participants: 1, clipped: 1, clientUpdateNorm: { max: 4 } })
  })

  it('refuses unknown keys and values out of range, changing nothing', async () => {
    const { app } = await setup()
    for (const body of [
      { minClients: 0 },
      { minClients: 1.5 },
      { learningRate: 0 },
      // Past what a date can hold: the next round's deadline could not be written, so no round would close.
      { roundDeadlineSeconds: 1e13 },
      { padRatio: -1 },
      { quorum: 2 },
      { normPolicy: 'drop' },
      { updateDtype: 'bf16' },
      [1],
      '{x',
    ]) {
      const res = await patch(app, body)
      expect(res.status).toBe(400)
    }
    await expectError(await patch(app, { maxUpdateNorm: -1 }), 400, 'bad_settings')
    expect(parseRoundInfo(await (await app.request('/v1/round')).json()).config).toMatchObject({
      minClients: 3,
      learningRate: 0.2,
    })
  })
})
