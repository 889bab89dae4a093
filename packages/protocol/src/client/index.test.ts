import { describe, expect, it } from 'vitest'
import { UPDATE_MEDIA_TYPE } from '../constants.ts'
import {
  ClientError,
  createProtocolClient,
  type Fetch,
  newMeter,
  RejectedError,
  type WireResponse,
} from './index.ts'

/** An answer as the aggregator gives it: a status, a JSON (or empty) body, a content type. */
function answer(status: number, body: unknown = '', headers: Record<string, string> = {}): WireResponse {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: { get: (name) => headers[name.toLowerCase()] ?? null },
    body: { cancel: async () => undefined },
    text: async () => text,
    arrayBuffer: async () => Uint8Array.from(text, (c) => c.charCodeAt(0)).buffer,
  }
}

/** A fetch answering from a script, recording every call. */
function scripted(...answers: (WireResponse | Error)[]) {
  const calls: { url: string; method: string }[] = []
  const fetch: Fetch = async (url, init) => {
    calls.push({ url, method: init.method ?? 'GET' })
    const next = answers.shift()
    if (!next) throw new Error('no more answers')
    if (next instanceof Error) throw next
    return next
  }
  return { fetch, calls }
}

const ACK = {
  accepted: true,
  round: 3,
  modelVersion: 3,
  idempotencyKey: 'k',
  duplicate: false,
  participants: 1,
}
const FAST = { retries: 2, baseDelayMs: 1 }

describe('the protocol client', () => {
  it('retries a 503 and a lost connection, then counts the bytes of the answer it kept', async () => {
    const { fetch, calls } = scripted(
      answer(503, { error: { code: 'starting', message: 'wait' } }),
      new Error('reset'),
      answer(200, ACK),
    )
    const client = createProtocolClient({ baseUrl: 'http://agg.test', fetch, retry: FAST })
    const meter = newMeter()
    const ack = await client.postUpdate(Uint8Array.of(1, 2, 3), meter)
    expect(ack.participants).toBe(1)
    expect(calls).toEqual(Array(3).fill({ url: 'http://agg.test/v1/updates', method: 'POST' }))
    // The body once however often it was sent; the one answer read.
    expect(meter).toEqual({ up: 3, down: JSON.stringify(ACK).length })
  })

  it('takes a 4xx as the final word: one call, a RejectedError with the aggregator code', async () => {
    const { fetch, calls } = scripted(answer(409, { error: { code: 'stale_model', message: 'retrain' } }))
    const client = createProtocolClient({ baseUrl: 'http://agg.test/', fetch, retry: FAST })
    const err = await client.postUpdate(Uint8Array.of(1)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RejectedError)
    expect(err).toMatchObject({ code: 'rejected', status: 409, reason: 'stale_model' })
    expect((err as Error).message).toBe('aggregator refused (409 stale_model): retrain')
    expect(calls).toHaveLength(1)
  })

  it('says server_error after 5xx on every attempt, network (status 429) after rate limits', async () => {
    const failing = scripted(answer(500), answer(500), answer(500))
    const down = createProtocolClient({ baseUrl: 'http://agg.test/', fetch: failing.fetch, retry: FAST })
    await expect(down.roundInfo()).rejects.toMatchObject({
      name: 'ClientError',
      code: 'server_error',
      status: 500,
    })
    const limited = scripted(answer(429), answer(429), answer(429))
    const busy = createProtocolClient({ baseUrl: 'http://agg.test/', fetch: limited.fetch, retry: FAST })
    const err = await busy.roundInfo().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ClientError)
    expect(err).toMatchObject({ code: 'network', status: 429 })
  })

  it('answers a patch it cannot use as failed (download the whole model), and 304 as current', async () => {
    const held = { modelVersion: 2, etag: '"v2"', bytes: new Uint8Array(4) }
    const { fetch, calls } = scripted(
      answer(200, 'not a patch', { 'content-type': 'application/vnd.fedrec.model-patch' }),
      answer(304),
    )
    const client = createProtocolClient({ baseUrl: 'http://agg.test/', fetch, retry: FAST })
    expect((await client.modelSince(held)).kind).toBe('failed')
    expect(await client.model(held)).toEqual({ kind: 'current' })
    expect(calls.map((c) => c.url)).toEqual(['http://agg.test/v1/model?since=2', 'http://agg.test/v1/model'])
  })

  it('sends one attempt raw: any status comes back as it is', async () => {
    const { fetch } = scripted(answer(413, { error: { code: 'body_too_large', message: 'no' } }))
    const client = createProtocolClient({ baseUrl: 'http://agg.test/', fetch })
    const res = await client.send('v1/updates', {
      method: 'POST',
      headers: { 'content-type': UPDATE_MEDIA_TYPE },
    })
    expect(res.status).toBe(413)
  })
})
