import { decodeModel, ITEM_BIAS, ITEM_EMBEDDING, MODEL_MEDIA_TYPE, parseRoundInfo } from '@fedrec/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { catalogueOf } from '../test-support.ts'
import { closeApps, DIM, expectError, NUM_ITEMS, setup, tensor } from './test-app.ts'

afterEach(closeApps)

describe('GET /healthz and /v1/round', () => {
  it('answers ok', async () => {
    const { app } = await setup()
    const res = await app.request('/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true })
  })

  it('describes the open round and its config', async () => {
    const { app } = await setup({ maxSampleCount: 500, mu: 0.01, negativesPerPositive: 4 })
    const res = await app.request('/v1/round')
    expect(res.status).toBe(200)
    const info = parseRoundInfo(await res.json())
    expect(info).toMatchObject({ round: 0, modelVersion: 0, numItems: NUM_ITEMS, dim: DIM })
    expect(info.config).toEqual({
      mu: 0.01,
      localEpochs: 2,
      learningRate: 0.2,
      negativesPerPositive: 4,
      batchSize: 256,
      maxSampleCount: 500,
      padRatio: 0,
      updateDtype: 'f16',
      deadline: '2030-01-01T00:05:00.000Z',
      minClients: 3,
    })
  })

  it('answers unknown routes with a JSON 404', async () => {
    const { app } = await setup()
    await expectError(await app.request('/v1/nope'), 404, 'not_found')
  })
})

describe('GET /v1/model', () => {
  it('serves the binary model with an ETag and no-cache', async () => {
    const { app } = await setup()
    const res = await app.request('/v1/model')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(MODEL_MEDIA_TYPE)
    expect(res.headers.get('etag')).toBe('"v0"')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    const snapshot = decodeModel(new Uint8Array(await res.arrayBuffer()))
    expect(snapshot.modelVersion).toBe(0)
    expect(snapshot.itemIds).toEqual(catalogueOf(NUM_ITEMS))
    expect(tensor(snapshot, ITEM_EMBEDDING)).toHaveLength(NUM_ITEMS * DIM)
    expect(tensor(snapshot, ITEM_BIAS)).toHaveLength(NUM_ITEMS)
  })

  it('answers a matching If-None-Match with 304 and no body', async () => {
    const { app } = await setup()
    for (const tag of ['"v0"', 'W/"v0"', '"v9", "v0"', '*']) {
      const res = await app.request('/v1/model', { headers: { 'If-None-Match': tag } })
      expect(res.status).toBe(304)
      expect(res.headers.get('etag')).toBe('"v0"')
      expect(await res.text()).toBe('')
    }
    const stale = await app.request('/v1/model', { headers: { 'If-None-Match': '"v9"' } })
    expect(stale.status).toBe(200)
  })

  it('exposes the ETag to browsers (CORS)', async () => {
    const { app } = await setup()
    const res = await app.request('/v1/model', { headers: { Origin: 'https://shop.example' } })
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-expose-headers')).toContain('ETag')
  })
})

describe('CORS allow-list', () => {
  it('allows listed origins only, also on errors and preflights', async () => {
    const { app } = await setup({}, { corsOrigins: ['https://shop.example'] })
    const ok = await app.request('/v1/round', { headers: { Origin: 'https://shop.example' } })
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example')
    const other = await app.request('/v1/round', { headers: { Origin: 'https://evil.example' } })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    const error = await app.request('/v1/updates', {
      method: 'POST',
      body: 'x',
      headers: { Origin: 'https://shop.example', 'Content-Type': 'text/plain' },
    })
    expect(error.status).toBe(415)
    expect(error.headers.get('access-control-allow-origin')).toBe('https://shop.example')
    const preflight = await app.request('/v1/updates', {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://shop.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST')
  })
})
