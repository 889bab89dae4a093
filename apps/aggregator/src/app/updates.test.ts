import {
  ITEM_BIAS,
  ITEM_EMBEDDING,
  newRandomId,
  parseRoundInfo,
  parseUpdateAck,
  UPDATE_MEDIA_TYPE,
} from '@fedrec/protocol'
import type { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { createAggregator } from '../aggregator/index.ts'
import { catalogueOf, makeUpdate, type Rows } from '../test-support.ts'
import { createApp } from './index.ts'
import {
  closeAfterTest,
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
  withChecksum,
} from './test-app.ts'
import { describeStores } from './test-stores.ts'

afterEach(closeApps)

describeStores('POST /v1/updates', () => {
  it('acknowledges a valid update and counts it', async () => {
    const { app } = await setup()
    const { bytes, update } = makeUpdate({
      round: 0,
      modelVersion: 0,
      sampleCount: 12,
      dim: DIM,
      bias: [[1, [0.5]]],
    })
    const res = await post(app, bytes)
    expect(res.status).toBe(200)
    expect(parseUpdateAck(await res.json())).toEqual({
      accepted: true,
      round: 0,
      modelVersion: 0,
      idempotencyKey: update.idempotencyKey,
      duplicate: false,
      participants: 1,
    })
    expect(await status(app)).toMatchObject({ round: 0, participants: 1, samples: 12 })
  })

  it('answers a repeated idempotency key with the original ack, counted once', async () => {
    const { app } = await setup()
    const first = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 3, dim: DIM, bias: [[0, [1]]] })
    const ack = parseUpdateAck(await (await post(app, first.bytes)).json())
    const again = await post(app, first.bytes)
    expect(again.status).toBe(200)
    expect(parseUpdateAck(await again.json())).toEqual({ ...ack, duplicate: true })
    expect(await status(app)).toMatchObject({ participants: 1, samples: 3 })
  })

  describe('refuses bad input without touching the round', () => {
    const good = () => makeUpdate({ round: 0, modelVersion: 0, sampleCount: 10, dim: DIM, bias: [[0, [1]]] })
    const cases: Array<[string, (app: Hono) => Response | Promise<Response>, number, string]> = [
      [
        'a wrong media type',
        (app) => post(app, good().bytes, { 'Content-Type': 'application/json' }),
        415,
        'unsupported_media_type',
      ],
      [
        'bytes that are not an update',
        (app) => post(app, withChecksum(new TextEncoder().encode('hello, world!!!!'))),
        400,
        'bad_magic',
      ],
      ['random bytes', (app) => post(app, new TextEncoder().encode('hello, world, hello!')), 400, 'checksum'],
      ['an empty body', (app) => post(app, new Uint8Array(0)), 400, 'truncated'],
      [
        'a flipped bit',
        (app) => {
          const bytes = good().bytes.slice()
          bytes[bytes.length - 6]! ^= 1
          return post(app, bytes)
        },
        400,
        'checksum',
      ],
      ['a truncated body', (app) => post(app, good().bytes.slice(0, 40)), 400, 'checksum'],
      [
        'a row outside the catalogue',
        (app) =>
          post(
            app,
            makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, bias: [[NUM_ITEMS, [1]]] })
              .bytes,
          ),
        400,
        'bad_row_ids',
      ],
      [
        'a wrong embedding width',
        (app) =>
          post(
            app,
            makeUpdate({
              round: 0,
              modelVersion: 0,
              sampleCount: 1,
              dim: DIM + 1,
              embedding: [[0, [1, 2, 3, 4, 5]]],
            }).bytes,
          ),
        400,
        'shape_mismatch',
      ],
      [
        'too many samples',
        (app) => post(app, makeUpdate({ round: 0, modelVersion: 0, sampleCount: 100_001, dim: DIM }).bytes),
        400,
        'sample_count_too_large',
      ],
      [
        'a future round',
        (app) => post(app, makeUpdate({ round: 1, modelVersion: 0, sampleCount: 1, dim: DIM }).bytes),
        409,
        'future_round',
      ],
      [
        'another model version',
        (app) => post(app, makeUpdate({ round: 0, modelVersion: 1, sampleCount: 1, dim: DIM }).bytes),
        409,
        'stale_model',
      ],
    ]
    for (const [what, send, code, error] of cases) {
      it(`${what} → ${code} ${error}`, async () => {
        const { app } = await setup()
        await post(app, good().bytes)
        await expectError(await send(app), code, error)
        expect(await status(app)).toMatchObject({ round: 0, modelVersion: 0, participants: 1, samples: 10 })
      })
    }

    it('a second update of the same client under a new key → 409 already_submitted', async () => {
      const { app } = await setup()
      const clientId = newRandomId()
      const first = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 4, dim: DIM, clientId })
      expect((await post(app, first.bytes)).status).toBe(200)
      const second = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 8, dim: DIM, clientId })
      await expectError(await post(app, second.bytes), 409, 'already_submitted')
      expect(await status(app)).toMatchObject({ participants: 1, samples: 4 })
    })

    it('an update for a closed round → 409 round_closed; a retry of an accepted one still gets its ack', async () => {
      const { app } = await setup({ minClients: 1 })
      const accepted = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 4, dim: DIM })
      const ack = parseUpdateAck(await (await post(app, accepted.bytes)).json())
      expect(await status(app)).toMatchObject({ round: 1, participants: 0 })
      await expectError(await post(app, good().bytes), 409, 'round_closed')
      const retry = await post(app, accepted.bytes)
      expect(retry.status).toBe(200)
      expect(parseUpdateAck(await retry.json())).toEqual({ ...ack, duplicate: true })
      expect(await status(app)).toMatchObject({ round: 1, participants: 0, samples: 0 })
    })

    it('a body over the limit → 413, by Content-Length and while streaming', async () => {
      const { app } = await setup({}, { maxBodyBytes: 128 })
      const big = makeUpdate({
        round: 0,
        modelVersion: 0,
        sampleCount: 1,
        dim: DIM,
        embedding: [0, 1, 2, 3, 4].map((r) => [r, [1, 2, 3, 4]] as const),
        bias: [0, 1, 2, 3, 4].map((r) => [r, [1]] as const),
      }).bytes
      expect(big.byteLength).toBeGreaterThan(128)
      await expectError(
        await post(app, big, { 'Content-Length': String(big.byteLength) }),
        413,
        'body_too_large',
      )
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(big.slice(0, 100))
          controller.enqueue(big.slice(100))
          controller.close()
        },
      })
      const streamed = await app.request('/v1/updates', {
        method: 'POST',
        body: stream,
        headers: { 'Content-Type': UPDATE_MEDIA_TYPE },
        duplex: 'half',
      } as RequestInit)
      await expectError(streamed, 413, 'body_too_large')
      expect(await status(app)).toMatchObject({ participants: 0 })
    })
  })
})

describeStores('closing a round', () => {
  it('closes on quorum and publishes version + 1 = the sample-weighted FedAvg of the updates', async () => {
    // Rows ÷ all clients' samples: the seed's formula, written out below.
    const { app } = await setup({ rowNormalization: 'all' })
    const before = await model(app)
    const updates: Array<{ n: number; embedding: Rows; bias: Rows }> = [
      { n: 10, embedding: [[0, [1, 2, 3, 4]]], bias: [[0, [1]]] },
      {
        n: 30,
        embedding: [
          [0, [-1, 0, 1, 0]],
          [2, [0.5, 0.5, 0.5, 0.5]],
        ],
        bias: [],
      },
      { n: 60, embedding: [], bias: [[4, [2]]] },
    ]
    const acks = []
    for (const u of updates) {
      const { bytes } = makeUpdate({
        round: 0,
        modelVersion: 0,
        sampleCount: u.n,
        dim: DIM,
        embedding: u.embedding,
        bias: u.bias,
      })
      acks.push(parseUpdateAck(await (await post(app, bytes)).json()))
    }
    expect(acks.map((a) => a.participants)).toEqual([1, 2, 3])
    expect(acks.every((a) => a.round === 0 && a.modelVersion === 0)).toBe(true)

    const info = parseRoundInfo(await (await app.request('/v1/round')).json())
    expect(info).toMatchObject({ round: 1, modelVersion: 1 })
    const after = await model(app)
    expect(after.modelVersion).toBe(1)

    // Σ n_k Δ_k / Σ n_k, rows nobody touched included (row normalisation 'all'), server η = 1.
    const total = 100
    const expectedEmbedding = Array.from(tensor(before, ITEM_EMBEDDING))
    const expectedBias = Array.from(tensor(before, ITEM_BIAS))
    for (const u of updates) {
      for (const [row, values] of u.embedding)
        values.forEach((v, c) => {
          expectedEmbedding[row * DIM + c]! += (u.n * v) / total
        })
      for (const [row, [v]] of u.bias) expectedBias[row]! += (u.n * v!) / total
    }
    const embedding = Array.from(tensor(after, ITEM_EMBEDDING))
    const bias = Array.from(tensor(after, ITEM_BIAS))
    for (const [i, v] of embedding.entries()) expect(v).toBeCloseTo(expectedEmbedding[i]!, 5)
    for (const [i, v] of bias.entries()) expect(v).toBeCloseTo(expectedBias[i]!, 5)
    expect(bias[4]).toBeCloseTo(1.2, 5)

    const s = await status(app)
    expect(s).toMatchObject({ round: 1, modelVersion: 1, participants: 0, samples: 0 })
    expect(s.history).toHaveLength(1)
    expect(s.history[0]).toMatchObject({
      round: 0,
      modelVersion: 0,
      participants: 3,
      samples: 100,
      closedBy: 'quorum',
    })
    const moved = Math.hypot(
      ...embedding.map((v, i) => v - tensor(before, ITEM_EMBEDDING)[i]!),
      ...bias.map((v, i) => v - tensor(before, ITEM_BIAS)[i]!),
    )
    expect(s.history[0]!.updateNorm).toBeCloseTo(moved, 5)

    const cached = await app.request('/v1/model', { headers: { 'If-None-Match': '"v0"' } })
    expect(cached.status).toBe(200)
    expect(cached.headers.get('etag')).toBe('"v1"')
  })

  it('closes on the deadline with the updates it has; an empty round just gets a new deadline', async () => {
    const { app, advance, aggregator } = await setup()
    advance(300_000)
    await aggregator.checkDeadline()
    let info = parseRoundInfo(await (await app.request('/v1/round')).json())
    expect(info).toMatchObject({ round: 0, modelVersion: 0 })
    expect(info.config.deadline).toBe('2030-01-01T00:10:00.000Z')
    expect((await status(app)).history).toEqual([])

    const { bytes } = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 5, dim: DIM, bias: [[3, [1]]] })
    expect((await post(app, bytes)).status).toBe(200)
    advance(299_000)
    await aggregator.checkDeadline()
    expect(parseRoundInfo(await (await app.request('/v1/round')).json()).round).toBe(0)
    advance(1_000)
    await aggregator.checkDeadline()
    info = parseRoundInfo(await (await app.request('/v1/round')).json())
    expect(info).toMatchObject({ round: 1, modelVersion: 1 })
    const s = await status(app)
    expect(s.history).toEqual([
      expect.objectContaining({ round: 0, participants: 1, samples: 5, closedBy: 'deadline' }),
    ])
    expect(tensor(await model(app), ITEM_BIAS)[3]).toBeCloseTo(1, 6)
  })

  it('closes on a real deadline timer', async () => {
    const aggregator = await createAggregator({
      negativesPerPositive: 1000,
      store: ':memory:',
      catalogue: catalogueOf(3),
      dim: 2,
      minClients: 5,
      roundDeadlineSeconds: 0.15,
    })
    closeAfterTest(aggregator)
    const app = createApp(aggregator, { corsOrigins: ['*'], maxBodyBytes: 1 << 20, operatorToken: TOKEN })
    await post(app, makeUpdate({ round: 0, modelVersion: 0, sampleCount: 2, dim: 2, bias: [[0, [1]]] }).bytes)
    await expect.poll(async () => (await status(app)).round, { interval: 50 }).toBe(1)
    expect((await status(app)).history[0]).toMatchObject({ closedBy: 'deadline', participants: 1 })
  })
})
