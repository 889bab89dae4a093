import { ITEM_EMBEDDING, parseRoundInfo } from '@fedrec/protocol'
import type { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { catalogueOf, makeUpdate } from '../test-support.ts'
import {
  closeApps,
  DIM,
  expectError,
  model,
  NUM_ITEMS,
  post,
  setup,
  status,
  TOKEN,
  tensor,
} from './test-app.ts'

afterEach(closeApps)

describe('POST /v1/catalogue', () => {
  const send = (app: Hono, body: unknown, token?: string) =>
    app.request('/v1/catalogue', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    })

  it('needs the operator token', async () => {
    const { app } = await setup()
    const res = await send(app, { itemIds: ['new-1'] })
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
    await expectError(res, 401, 'unauthorized')
    await expectError(await send(app, { itemIds: ['new-1'] }, 'wrong'), 401, 'unauthorized')
    expect((await status(app)).numItems).toBe(NUM_ITEMS)
  })

  it('refuses a malformed body', async () => {
    const { app } = await setup()
    await expectError(await send(app, { items: [] }, TOKEN), 400, 'bad_message')
    await expectError(await send(app, { itemIds: [''] }, TOKEN), 400, 'bad_item_id')
    await expectError(await send(app, { itemIds: [42] }, TOKEN), 400, 'bad_item_id')
    const garbage = await app.request('/v1/catalogue', {
      method: 'POST',
      body: '{nope',
      headers: { Authorization: `Bearer ${TOKEN}` },
    })
    await expectError(garbage, 400, 'bad_json')
  })

  it('queues unknown ids; they join the model, initialised, when the round closes', async () => {
    const { app } = await setup({ minClients: 1 })
    const res = await send(app, { itemIds: ['sku-0', 'new-1', 'new-2', 'new-1'] }, TOKEN)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ added: 2, pending: 2 })
    expect(await (await send(app, { itemIds: ['new-2', 'new-3'] }, TOKEN)).json()).toEqual({
      added: 1,
      pending: 3,
    })
    // In-flight updates stay valid: the model is unchanged until the round closes.
    expect(parseRoundInfo(await (await app.request('/v1/round')).json())).toMatchObject({
      modelVersion: 0,
      numItems: NUM_ITEMS,
    })
    await post(
      app,
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, bias: [[0, [1]]] }).bytes,
    )
    const after = await model(app)
    expect(after.modelVersion).toBe(1)
    expect(after.itemIds).toEqual([...catalogueOf(NUM_ITEMS), 'new-1', 'new-2', 'new-3'])
    const embedding = tensor(after, ITEM_EMBEDDING)
    expect(embedding).toHaveLength(8 * DIM)
    expect(embedding.slice(NUM_ITEMS * DIM).some((v) => v !== 0)).toBe(true)
    expect((await status(app)).numItems).toBe(8)
  })

  it('refuses an entry with a bad feature (400 bad_feature naming it), queueing nothing of the request', async () => {
    const { app } = await setup({ minClients: 1 })
    expect(await (await send(app, { itemIds: ['kept-1'] }, TOKEN)).json()).toEqual({ added: 1, pending: 1 })
    for (const bad of [
      { id: 'bad-1', price: -1 },
      { id: 'bad-1', category: { name: 'Kitchen' } },
      { id: 'bad-1', brand: 7 },
      { id: 'bad-1', title: 'x'.repeat(1001) },
    ]) {
      const res = await send(app, { itemIds: ['new-1', bad] }, TOKEN)
      expect(res.status).toBe(400)
      const body = (await res.json()) as { error: { code: string; message: string } }
      expect(body.error.code).toBe('bad_feature')
      expect(body.error.message).toMatch(/^itemIds\[1\] \(bad-1\): product /)
    }
    // Nothing of the refused requests was queued: the earlier queue and the model stand.
    expect(await (await send(app, { itemIds: ['kept-1'] }, TOKEN)).json()).toEqual({ added: 0, pending: 1 })
    expect((await model(app)).itemIds).toEqual(catalogueOf(NUM_ITEMS))
  })
})
