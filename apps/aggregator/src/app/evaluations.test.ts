import { newRandomId, parseErrorBody, parseEvaluationAck } from '@fedrec/protocol'
import type { Hono } from 'hono'
import { afterEach, expect, it } from 'vitest'
import { EVALUATION_WINDOW } from '../aggregator/index.ts'
import { closeApps, expectError, participant, setup, status } from './test-app.ts'
import { describeStores } from './test-stores.ts'

afterEach(closeApps)

describeStores('POST /v1/evaluations', () => {
  const report = (over: Record<string, unknown> = {}) => ({
    round: 0,
    modelVersion: 0,
    clientId: newRandomId(),
    idempotencyKey: newRandomId(),
    users: 4,
    hits10: 2,
    ndcg10: 1.2,
    ...over,
  })
  const send = (app: Hono, body: unknown) =>
    app.request('/v1/evaluations', {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    })

  // These reports speak for several users at once (a simulator may): the operator raised the cap for that.
  const MANY = 10

  it('averages reports per model version, counting a retried key once', async () => {
    const { app } = await setup({ maxEvaluationUsers: MANY })
    const first = report({ clientId: await participant(app) })
    expect(parseEvaluationAck(await (await send(app, first)).json())).toEqual({
      accepted: true,
      modelVersion: 0,
      duplicate: false,
    })
    expect(parseEvaluationAck(await (await send(app, first)).json())).toMatchObject({ duplicate: true })
    const second = report({ clientId: await participant(app), users: 1, hits10: 1, ndcg10: 0.5 })
    expect((await send(app, second)).status).toBe(200)
    expect((await status(app)).evaluations).toEqual([
      { modelVersion: 0, users: 5, hr10: 3 / 5, ndcg10: expect.closeTo(1.7 / 5, 9) },
    ])
  })

  it('limits reports per address (each one is a durable write)', async () => {
    const { app } = await setup({ maxEvaluationUsers: MANY }, { ipRatePerMinute: 2 })
    // Uploads have a bucket of their own: two participants, then their two reports.
    const clients = [await participant(app), await participant(app)]
    for (const clientId of clients) expect((await send(app, report({ clientId }))).status).toBe(200)
    const limited = await send(app, report({ clientId: clients[0] }))
    await expectError(limited, 429, 'rate_limited')
    expect(limited.headers.get('retry-after')).toBe('30')
    expect((await status(app)).evaluations[0]?.users).toBe(8)
  })

  it('refuses malformed reports and versions that are not (or no longer) evaluated', async () => {
    const { app } = await setup({ minClients: 1, maxEvaluationUsers: MANY })
    await expectError(await send(app, '{nope'), 400, 'bad_json')
    await expectError(await send(app, report({ users: 0 })), 400, 'bad_message')
    await expectError(await send(app, report({ hits10: 5 })), 400, 'bad_message')
    await expectError(await send(app, report({ idempotencyKey: 'x' })), 400, 'bad_message')
    await expectError(await send(app, report({ modelVersion: 1, round: 1 })), 409, 'unknown_model_version')
    await expectError(await send(app, report({ round: 1 })), 400, 'bad_evaluation_round')
    const clients: string[] = []
    for (let r = 0; r <= EVALUATION_WINDOW; r++) clients.push(await participant(app, r))
    const res = await send(app, report({ round: EVALUATION_WINDOW + 1, clientId: clients[0] }))
    await expectError(res, 409, 'evaluation_too_old')
    // Round 0 published version 1: its client may report on it.
    expect((await send(app, report({ modelVersion: 1, round: 1, clientId: clients[0] }))).status).toBe(200)
    expect((await status(app)).evaluations).toEqual([expect.objectContaining({ modelVersion: 1, users: 4 })])
  })
})

describeStores('POST /v1/evaluations: users per report', () => {
  const send = (app: Hono, users: number, clientId = newRandomId()) =>
    app.request('/v1/evaluations', {
      method: 'POST',
      body: JSON.stringify({
        round: 0,
        modelVersion: 0,
        clientId,
        idempotencyKey: newRandomId(),
        users,
        hits10: 1,
        ndcg10: 1,
      }),
      headers: { 'Content-Type': 'application/json' },
    })

  it('takes one user per report by default: a report claiming more → 400 evaluation_users_too_large, not counted', async () => {
    const { app } = await setup()
    for (const users of [2, 1_000_000]) {
      const res = await send(app, users)
      expect(res.status).toBe(400)
      const { error } = parseErrorBody(await res.json())
      expect(error.code).toBe('evaluation_users_too_large')
      expect(error.message).toContain(`claims ${users} users`)
      expect(error.message).toMatch(/at most 1 per report \(--max-evaluation-users\)/)
    }
    expect((await status(app)).evaluations).toEqual([])
    expect((await send(app, 1, await participant(app))).status).toBe(200)
    expect((await status(app)).evaluations).toEqual([{ modelVersion: 0, users: 1, hr10: 1, ndcg10: 1 }])
  })

  it('takes up to the configured cap and no more', async () => {
    const { app } = await setup({ maxEvaluationUsers: 3 })
    expect((await send(app, 3, await participant(app))).status).toBe(200)
    await expectError(await send(app, 4), 400, 'evaluation_users_too_large')
    expect((await status(app)).evaluations).toEqual([expect.objectContaining({ users: 3 })])
  })
})
