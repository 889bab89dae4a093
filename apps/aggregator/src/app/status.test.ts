import { afterEach, describe, expect, it } from 'vitest'
import { makeUpdate } from '../test-support.ts'
import { closeApps, DIM, post, setup, status } from './test-app.ts'

afterEach(closeApps)

describe('GET /v1/status: rejections and client update norms', () => {
  it('counts refused updates by code', async () => {
    const { app } = await setup({}, { maxBodyBytes: 256 })
    await post(app, new Uint8Array(0))
    await post(app, new Uint8Array(0))
    await post(app, makeUpdate({ round: 0, modelVersion: 3, sampleCount: 1, dim: DIM }).bytes)
    await post(app, new Uint8Array(300))
    await post(app, new Uint8Array(10), { 'Content-Type': 'text/plain' })
    expect((await status(app)).rejections).toEqual({
      truncated: 2,
      stale_model: 1,
      body_too_large: 1,
      unsupported_media_type: 1,
    })
  })

  it('records the mean and largest norm of the accepted updates of each round', async () => {
    const { app } = await setup({ minClients: 2 })
    await post(
      app,
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, bias: [[0, [3]]] }).bytes,
    )
    await post(
      app,
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, embedding: [[1, [0, 3, 0, 4]]] })
        .bytes,
    )
    const [summary] = (await status(app)).history
    expect(summary?.clientUpdateNorm).toEqual({ mean: 4, max: 5 })
    expect(summary?.clipped).toBe(0)
  })
})
