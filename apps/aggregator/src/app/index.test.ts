import {
  crc32,
  decodeModel,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  MODEL_MEDIA_TYPE,
  type ModelSnapshot,
  newRandomId,
  parseErrorBody,
  parseEvaluationAck,
  parseRoundInfo,
  parseStatus,
  parseUpdateAck,
  UPDATE_MEDIA_TYPE,
} from '@fedrec/protocol'
import type { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type Aggregator,
  type AggregatorOptions,
  createAggregator,
  EVALUATION_WINDOW,
} from '../aggregator/index.ts'
import { catalogueOf, makeUpdate, type Rows } from '../test-support.ts'
import { type AppOptions, createApp } from './index.ts'

const TOKEN = 'operator-secret'
const DIM = 4
const NUM_ITEMS = 5

let open: Aggregator[] = []
afterEach(() => {
  for (const a of open) a.close()
  open = []
})

/** The aggregator every test here starts from (in memory, no deadline timer). */
const BASE_OPTIONS: AggregatorOptions = {
  store: ':memory:',
  catalogue: catalogueOf(NUM_ITEMS),
  dim: DIM,
  seed: 7,
  minClients: 3,
  deadlineTimer: false,
  // The synthetic updates here claim n_k freely; the bound by rows has its own test (influence.test.ts).
  negativesPerPositive: 1000,
}

function setup(options: Partial<AggregatorOptions> = {}, appOptions: Partial<AppOptions> = {}) {
  let clock = Date.parse('2030-01-01T00:00:00.000Z')
  const aggregator = createAggregator({ ...BASE_OPTIONS, now: () => clock, ...options })
  open.push(aggregator)
  const app = createApp(aggregator, {
    corsOrigins: ['*'],
    maxBodyBytes: 1 << 20,
    operatorToken: TOKEN,
    ...appOptions,
  })
  return {
    app,
    aggregator,
    advance: (ms: number) => {
      clock += ms
    },
  }
}

const post = (app: Hono, bytes: Uint8Array, headers: Record<string, string> = {}) =>
  app.request('/v1/updates', {
    method: 'POST',
    body: bytes,
    headers: { 'Content-Type': UPDATE_MEDIA_TYPE, ...headers },
  })

/** The operator's status: the live view. */
async function status(app: Hono) {
  const res = await app.request('/v1/status', { headers: { Authorization: `Bearer ${TOKEN}` } })
  expect(res.status).toBe(200)
  return parseStatus(await res.json())
}

async function model(app: Hono): Promise<ModelSnapshot> {
  const res = await app.request('/v1/model')
  expect(res.status).toBe(200)
  return decodeModel(new Uint8Array(await res.arrayBuffer()))
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  const body = parseErrorBody(await res.json())
  expect(body.error.code).toBe(code)
  expect(body.error.message).not.toBe('')
}

/** `bytes` followed by their CRC-32, so the decoder gets past the checksum. */
function withChecksum(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 4)
  out.set(bytes)
  new DataView(out.buffer).setUint32(bytes.length, crc32(bytes), true)
  return out
}

const tensor = (s: ModelSnapshot, name: string) => s.tensors.find((t) => t.name === name)!.values

describe('GET /healthz and /v1/round', () => {
  it('answers ok', async () => {
    const { app } = setup()
    const res = await app.request('/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true })
  })

  it('describes the open round and its config', async () => {
    const { app } = setup({ maxSampleCount: 500, mu: 0.01, negativesPerPositive: 4 })
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
    const { app } = setup()
    await expectError(await app.request('/v1/nope'), 404, 'not_found')
  })
})

describe('GET /v1/model', () => {
  it('serves the binary model with an ETag and no-cache', async () => {
    const { app } = setup()
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
    const { app } = setup()
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
    const { app } = setup()
    const res = await app.request('/v1/model', { headers: { Origin: 'https://shop.example' } })
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-expose-headers')).toContain('ETag')
  })
})

describe('CORS allow-list', () => {
  it('allows listed origins only, also on errors and preflights', async () => {
    const { app } = setup({}, { corsOrigins: ['https://shop.example'] })
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

describe('POST /v1/updates', () => {
  it('acknowledges a valid update and counts it', async () => {
    const { app } = setup()
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
    const { app } = setup()
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
        const { app } = setup()
        await post(app, good().bytes)
        await expectError(await send(app), code, error)
        expect(await status(app)).toMatchObject({ round: 0, modelVersion: 0, participants: 1, samples: 10 })
      })
    }

    it('a second update of the same client under a new key → 409 already_submitted', async () => {
      const { app } = setup()
      const clientId = newRandomId()
      const first = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 4, dim: DIM, clientId })
      expect((await post(app, first.bytes)).status).toBe(200)
      const second = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 8, dim: DIM, clientId })
      await expectError(await post(app, second.bytes), 409, 'already_submitted')
      expect(await status(app)).toMatchObject({ participants: 1, samples: 4 })
    })

    it('an update for a closed round → 409 round_closed; a retry of an accepted one still gets its ack', async () => {
      const { app } = setup({ minClients: 1 })
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
      const { app } = setup({}, { maxBodyBytes: 128 })
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

describe('closing a round', () => {
  it('closes on quorum and publishes version + 1 = the sample-weighted FedAvg of the updates', async () => {
    // Rows ÷ all clients' samples: the seed's formula, written out below.
    const { app } = setup({ rowNormalization: 'all' })
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
    const { app, advance, aggregator } = setup()
    advance(300_000)
    aggregator.checkDeadline()
    let info = parseRoundInfo(await (await app.request('/v1/round')).json())
    expect(info).toMatchObject({ round: 0, modelVersion: 0 })
    expect(info.config.deadline).toBe('2030-01-01T00:10:00.000Z')
    expect((await status(app)).history).toEqual([])

    const { bytes } = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 5, dim: DIM, bias: [[3, [1]]] })
    expect((await post(app, bytes)).status).toBe(200)
    advance(299_000)
    aggregator.checkDeadline()
    expect(parseRoundInfo(await (await app.request('/v1/round')).json()).round).toBe(0)
    advance(1_000)
    aggregator.checkDeadline()
    info = parseRoundInfo(await (await app.request('/v1/round')).json())
    expect(info).toMatchObject({ round: 1, modelVersion: 1 })
    const s = await status(app)
    expect(s.history).toEqual([
      expect.objectContaining({ round: 0, participants: 1, samples: 5, closedBy: 'deadline' }),
    ])
    expect(tensor(await model(app), ITEM_BIAS)[3]).toBeCloseTo(1, 6)
  })

  it('closes on a real deadline timer', async () => {
    const aggregator = createAggregator({
      negativesPerPositive: 1000,
      store: ':memory:',
      catalogue: catalogueOf(3),
      dim: 2,
      minClients: 5,
      roundDeadlineSeconds: 0.15,
    })
    open.push(aggregator)
    const app = createApp(aggregator, { corsOrigins: ['*'], maxBodyBytes: 1 << 20, operatorToken: TOKEN })
    await post(app, makeUpdate({ round: 0, modelVersion: 0, sampleCount: 2, dim: 2, bias: [[0, [1]]] }).bytes)
    await expect.poll(async () => (await status(app)).round, { timeout: 5_000, interval: 50 }).toBe(1)
    expect((await status(app)).history[0]).toMatchObject({ closedBy: 'deadline', participants: 1 })
  })
})

describe('POST /v1/catalogue', () => {
  const send = (app: Hono, body: unknown, token?: string) =>
    app.request('/v1/catalogue', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    })

  it('needs the operator token', async () => {
    const { app } = setup()
    const res = await send(app, { itemIds: ['new-1'] })
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
    await expectError(res, 401, 'unauthorized')
    await expectError(await send(app, { itemIds: ['new-1'] }, 'wrong'), 401, 'unauthorized')
    expect((await status(app)).numItems).toBe(NUM_ITEMS)
  })

  it('refuses a malformed body', async () => {
    const { app } = setup()
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
    const { app } = setup({ minClients: 1 })
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
})

/** Posts an accepted update for the open round from a fresh client; returns that client's id. */
async function participant(app: Hono, round = 0): Promise<string> {
  const clientId = newRandomId()
  const u = makeUpdate({ round, modelVersion: round, sampleCount: 1, dim: DIM, bias: [[0, [0.1]]], clientId })
  expect((await post(app, u.bytes)).status).toBe(200)
  return clientId
}

describe('POST /v1/evaluations', () => {
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
    const { app } = setup({ maxEvaluationUsers: MANY })
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
    const { app } = setup({ maxEvaluationUsers: MANY }, { ipRatePerMinute: 2 })
    // Uploads have a bucket of their own: two participants, then their two reports.
    const clients = [await participant(app), await participant(app)]
    for (const clientId of clients) expect((await send(app, report({ clientId }))).status).toBe(200)
    const limited = await send(app, report({ clientId: clients[0] }))
    await expectError(limited, 429, 'rate_limited')
    expect(limited.headers.get('retry-after')).toBe('30')
    expect((await status(app)).evaluations[0]?.users).toBe(8)
  })

  it('refuses malformed reports and versions that are not (or no longer) evaluated', async () => {
    const { app } = setup({ minClients: 1, maxEvaluationUsers: MANY })
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

describe('POST /v1/evaluations: users per report', () => {
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
    const { app } = setup()
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
    const { app } = setup({ maxEvaluationUsers: 3 })
    expect((await send(app, 3, await participant(app))).status).toBe(200)
    await expectError(await send(app, 4), 400, 'evaluation_users_too_large')
    expect((await status(app)).evaluations).toEqual([expect.objectContaining({ users: 3 })])
  })
})

describe('GET /v1/status: rejections and client update norms', () => {
  it('counts refused updates by code', async () => {
    const { app } = setup({}, { maxBodyBytes: 256 })
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
    const { app } = setup({ minClients: 2 })
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

describe('GET and PATCH /v1/config', () => {
  const patch = (app: Hono, body: unknown, token = TOKEN) =>
    app.request('/v1/config', {
      method: 'PATCH',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    })

  it('a new deadline length applies to the open round: its opening plus the length, now at the earliest', async () => {
    const { app, aggregator, advance } = setup({ roundDeadlineSeconds: 3600 })
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
    aggregator.checkDeadline()
    expect(aggregator.status().history).toEqual([expect.objectContaining({ round: 0, closedBy: 'deadline' })])
  })

  it('needs the operator token for reading and for changing', async () => {
    const { app } = setup()
    await expectError(await app.request('/v1/config'), 401, 'unauthorized')
    await expectError(await patch(app, { minClients: 1 }, ''), 401, 'unauthorized')
    await expectError(await patch(app, { minClients: 1 }, 'wrong'), 401, 'unauthorized')
    expect(parseRoundInfo(await (await app.request('/v1/round')).json()).config.minClients).toBe(3)
  })

  it('changes client settings for the next RoundInfo, and a lowered quorum that is met closes the round', async () => {
    const { app } = setup()
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
    const { app } = setup()
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

describe('POST /v1/round/reset', () => {
  const reset = (app: Hono, body?: unknown, token = TOKEN) =>
    app.request('/v1/round/reset', {
      method: 'POST',
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    })
  const update = (clientId: string, bias: number, round = 0) =>
    makeUpdate({ round, modelVersion: round, sampleCount: 2, dim: DIM, clientId, bias: [[1, [bias]]] })

  it('needs the operator token', async () => {
    const { app } = setup()
    expect((await post(app, update(newRandomId(), 1).bytes)).status).toBe(200)
    const res = await reset(app, undefined, '')
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
    await expectError(res, 401, 'unauthorized')
    await expectError(await reset(app, undefined, 'wrong'), 401, 'unauthorized')
    expect(await status(app)).toMatchObject({ participants: 1, samples: 2, resets: 0 })
  })

  it('discards the open round and reopens it on the same model with a fresh deadline; its clients may send again', async () => {
    const { app, advance } = setup()
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
    const reference = createAggregator(BASE_OPTIONS)
    open.push(reference)
    for (const u of fresh) await reference.submit(u.bytes)
    expect(await model(app)).toEqual(decodeModel(reference.model().bytes))
  })

  it('answers a retry of a discarded update with 409 round_reset, never a duplicate ack, and counts nothing', async () => {
    const { app } = setup()
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
    const { app } = setup({ minClients: 2 })
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
