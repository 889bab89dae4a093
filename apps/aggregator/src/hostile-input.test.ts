// Every bad input of the issue, against a real aggregator process: a clear 4xx JSON error that says what
// to do, the model and round untouched, the refusal counted, and the server still serving.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  crc32,
  decodeModel,
  encodeUpdate,
  ITEM_BIAS,
  newRandomId,
  parseErrorBody,
  parseUpdateAck,
  type Status,
  UPDATE_MEDIA_TYPE,
} from '@fedrec/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { killAll, operatorStatus, postUpdate, type Running, start } from './test-process.ts'
import { catalogueOf, makeUpdate } from './test-support.ts'

const NUM_ITEMS = 6
const DIM = 4
const MAX_SAMPLES = 1000
const MAX_BODY = 4096
const MAX_NORM = 10

let dir: string
let server: Running
let round = 0

const status = (): Promise<Status> => operatorStatus(server.url)
const good = (over: Partial<Parameters<typeof makeUpdate>[0]> = {}) =>
  makeUpdate({ round, modelVersion: round, sampleCount: 10, dim: DIM, bias: [[1, [0.5]]], ...over })

/** `bytes` with its trailing CRC-32 recomputed after a patch, so the decoder gets past the checksum. */
function reseal(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice()
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true)
  return out
}

/** A good two-row bias update with `edit` applied to its bytes (row ids at -20, values at -12). */
function patched(edit: (view: DataView, length: number) => void): Uint8Array {
  const bytes = good({
    bias: [
      [1, [0.5]],
      [2, [0.25]],
    ],
  }).bytes.slice()
  edit(new DataView(bytes.buffer), bytes.length)
  return reseal(bytes)
}

/**
 * The same update as format version 2 with float16 deltas, with `edit` applied: the bias dtype word at 64, its
 * two float16 values at -8 and -6 (4 bytes: aligned, no padding).
 */
function patched16(edit: (view: DataView, length: number) => void): Uint8Array {
  const { update } = good({
    bias: [
      [1, [0.5]],
      [2, [0.25]],
    ],
  })
  const bytes = encodeUpdate(update, { dtype: 'f16' })
  edit(new DataView(bytes.buffer), bytes.length)
  return reseal(bytes)
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fedrec-hostile-'))
  const catalogue = join(dir, 'catalogue.json')
  writeFileSync(catalogue, JSON.stringify(catalogueOf(NUM_ITEMS)))
  server = await start([
    ...['--port', '0', '--store', join(dir, 's.sqlite'), '--init', '--catalogue', catalogue],
    ...['--dim', String(DIM), '--seed', '1', '--min-clients', '2', '--round-deadline', '600'],
    // The synthetic updates here claim n_k freely; the bound by rows has its own test (influence.test.ts).
    ...['--negatives', '1000'],
    ...['--max-sample-count', String(MAX_SAMPLES), '--max-body-bytes', String(MAX_BODY)],
    ...[
      '--max-update-norm',
      String(MAX_NORM),
      '--norm-policy',
      'reject',
      '--client-rate',
      '0',
      '--ip-rate',
      '0',
    ],
  ])
  // Close round 0 so that "a closed round" exists, then leave one update in the open round 1.
  for (let i = 0; i < 3; i++) {
    if (i === 2) round = 1
    expect((await postUpdate(server.url, good().bytes)).status).toBe(200)
  }
  expect(await status()).toMatchObject({ round: 1, modelVersion: 1, participants: 1, samples: 10 })
})

afterAll(() => {
  killAll()
  rmSync(dir, { recursive: true, force: true })
})

/** Sends a bad request and checks everything the issue asks of its answer. */
async function refused(send: () => Promise<Response>, httpStatus: number, code: string, advice?: RegExp) {
  const before = await status()
  const etag = (await fetch(`${server.url}/v1/model`, { method: 'HEAD' })).headers.get('etag')
  const res = await send()
  expect(res.status).toBe(httpStatus)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  const { error } = parseErrorBody(await res.json())
  expect(error.code).toBe(code)
  if (advice) expect(error.message).toMatch(advice)
  const after = await status()
  expect(after).toMatchObject({
    round: before.round,
    modelVersion: before.modelVersion,
    participants: before.participants,
    samples: before.samples,
  })
  expect(after.rejections[code]).toBe((before.rejections[code] ?? 0) + 1)
  expect((await fetch(`${server.url}/v1/model`, { method: 'HEAD' })).headers.get('etag')).toBe(etag)
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
}

describe('a running aggregator refuses bad updates with a clear 4xx and keeps serving', () => {
  it('a body that is not the update format (JSON) → 400 checksum', async () => {
    await refused(
      () => postUpdate(server.url, new TextEncoder().encode('{"round":1,"deltas":[1,2]}')),
      400,
      'checksum',
    )
  })

  it('a truncated update → 400 checksum', async () => {
    await refused(() => postUpdate(server.url, good().bytes.slice(0, 60)), 400, 'checksum')
  })

  it('a truncated update with a valid checksum → 400 truncated', async () => {
    const bytes = good().bytes
    await refused(() => postUpdate(server.url, reseal(bytes.slice(0, 60))), 400, 'truncated')
  })

  it('an empty body → 400 truncated', async () => {
    await refused(() => postUpdate(server.url, new Uint8Array(0)), 400, 'truncated')
  })

  it('a wrong magic → 400 bad_magic', async () => {
    await refused(
      () =>
        postUpdate(
          server.url,
          patched((v) => v.setUint32(0, 0x4c444f4d, true)),
        ),
      400,
      'bad_magic',
    )
  })

  it('a wrong format version → 400 unsupported_version', async () => {
    const bytes = patched((v) => v.setUint16(4, 99, true))
    await refused(() => postUpdate(server.url, bytes), 400, 'unsupported_version')
  })

  it('a wrong media type → 415', async () => {
    const send = () => postUpdate(server.url, good().bytes, { 'Content-Type': 'application/json' })
    await refused(send, 415, 'unsupported_media_type', /application\/vnd/)
  })

  it('an embedding of the wrong width → 400 shape_mismatch', async () => {
    const bytes = good({ dim: DIM + 1, embedding: [[0, [1, 2, 3, 4, 5]]] }).bytes
    await refused(() => postUpdate(server.url, bytes), 400, 'shape_mismatch')
  })

  it('an unknown tensor → 400 shape_mismatch', async () => {
    const { update } = good()
    const user = {
      name: 'user_embedding',
      cols: DIM,
      rowIds: Uint32Array.of(0),
      values: new Float32Array(DIM),
    }
    const bytes = encodeUpdate({ ...update, tensors: [...update.tensors, user] })
    await refused(() => postUpdate(server.url, bytes), 400, 'shape_mismatch')
  })

  it('a row id outside the catalogue → 400 bad_row_ids', async () => {
    const bytes = good({ bias: [[NUM_ITEMS, [1]]] }).bytes
    await refused(() => postUpdate(server.url, bytes), 400, 'bad_row_ids')
  })

  it('a repeated row id → 400 bad_row_ids', async () => {
    const bytes = patched((v, n) => v.setUint32(n - 16, 1, true))
    await refused(() => postUpdate(server.url, bytes), 400, 'bad_row_ids')
  })

  for (const [what, value] of [
    ['NaN', Number.NaN],
    ['+Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ] as const) {
    it(`a delta of ${what} → 400 non_finite`, async () => {
      const bytes = patched((v, n) => v.setFloat32(n - 8, value, true))
      await refused(() => postUpdate(server.url, bytes), 400, 'non_finite')
    })
  }

  for (const [what, bits] of [
    ['NaN', 0x7e00],
    ['+Infinity', 0x7c00],
    ['-Infinity', 0xfc00],
  ] as const) {
    it(`a float16 delta of ${what} (format version 2) → 400 non_finite`, async () => {
      const bytes = patched16((v, n) => v.setUint16(n - 6, bits, true))
      await refused(() => postUpdate(server.url, bytes), 400, 'non_finite')
    })
  }

  it('an unknown dtype (format version 2) → 400 bad_tensor', async () => {
    const bytes = patched16((v) => {
      expect(v.getUint32(64, true)).toBe(1) // the bias tensor's dtype word: float16
      v.setUint32(64, 7, true)
    })
    await refused(() => postUpdate(server.url, bytes), 400, 'bad_tensor', /dtype 7/)
  })

  it('a sample count of 0 → 400 bad_sample_count (the wire holds a u32: no fraction, no sign)', async () => {
    const bytes = patched((v) => v.setUint32(16, 0, true))
    await refused(() => postUpdate(server.url, bytes), 400, 'bad_sample_count')
  })

  it('a sample count above the cap → 400 sample_count_too_large', async () => {
    const bytes = good({ sampleCount: MAX_SAMPLES + 1 }).bytes
    await refused(() => postUpdate(server.url, bytes), 400, 'sample_count_too_large', /at most/)
  })

  it('an update for a closed round → 409 round_closed, telling the client to fetch the round and retrain', async () => {
    const bytes = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, bias: [[0, [1]]] }).bytes
    await refused(() => postUpdate(server.url, bytes), 409, 'round_closed', /fetch \/v1\/round.*retrain/)
  })

  it('an update for a future round → 409 future_round', async () => {
    const bytes = good({ round: round + 1, modelVersion: round + 1 }).bytes
    await refused(() => postUpdate(server.url, bytes), 409, 'future_round', /fetch \/v1\/round/)
  })

  it('an update against a stale model version → 409 stale_model, telling the client to retrain', async () => {
    const bytes = good({ modelVersion: round - 1 }).bytes
    await refused(() => postUpdate(server.url, bytes), 409, 'stale_model', /fetch \/v1\/round.*retrain/)
  })

  it('a body over the size limit, declared → 413 before it is read', async () => {
    const big = new Uint8Array(MAX_BODY + 1)
    await refused(() => postUpdate(server.url, big), 413, 'body_too_large')
  })

  it('a body over the size limit, streamed without a length → 413 before the sender is done', async () => {
    let chunks = 0
    const send = () =>
      new Promise<Response>((resolve, reject) => {
        // node:http, not fetch: its own connection (the server closes it after answering early), and the
        // body is written chunk by chunk, so the test sees when the answer arrives.
        const req = request(`${server.url}/v1/updates`, {
          method: 'POST',
          agent: false,
          headers: { 'Content-Type': UPDATE_MEDIA_TYPE, 'Transfer-Encoding': 'chunked' },
        })
        let answered = false
        req.on('response', (res) => {
          answered = true
          let text = ''
          res.setEncoding('utf8').on('data', (d: string) => {
            text += d
          })
          res.on('end', () =>
            resolve(
              new Response(text, {
                status: res.statusCode,
                headers: { 'content-type': String(res.headers['content-type']) },
              }),
            ),
          )
        })
        req.on('error', (err) => {
          if (!answered) reject(err)
        })
        const chunk = new Uint8Array(1024)
        const pump = (): void => {
          if (answered || chunks >= 1024) {
            req.end()
            return
          }
          chunks += 1
          // A pause between chunks lets the answer be read before the next write meets a closed socket.
          req.write(chunk, () => setTimeout(pump, 5))
        }
        pump()
      })
    await refused(send, 413, 'body_too_large')
    // 1 MiB was on offer; the answer came after a little more than the 4 KiB limit.
    expect(chunks).toBeLessThan(1024)
  })

  it('an update above the norm bound (policy reject) → 400 update_norm_too_large', async () => {
    const bytes = good({ bias: [[1, [MAX_NORM + 1]]] }).bytes
    await refused(() => postUpdate(server.url, bytes), 400, 'update_norm_too_large', /norm/)
  })

  it('a second update of the same client under a new key → 409 already_submitted', async () => {
    const clientId = newRandomId()
    // Round 1 holds one update; this one closes it (quorum 2), so the test goes on in round 2.
    expect(
      parseUpdateAck(await (await postUpdate(server.url, good({ clientId }).bytes)).json()),
    ).toMatchObject({
      round: 1,
      participants: 2,
    })
    round = 2
    // A new round: the client may send again, once.
    // The open round by now (the tests above closed some): the client takes part in it.
    round = (await status()).round
    expect((await postUpdate(server.url, good({ clientId }).bytes)).status).toBe(200)
    const again = good({ clientId, sampleCount: 3 })
    await refused(() => postUpdate(server.url, again.bytes), 409, 'already_submitted', /next round/)
  })

  it('the same idempotency key twice → the same ack, counted once', async () => {
    const before = await status()
    const update = good({ bias: [[3, [0.125]]] })
    const res = await postUpdate(server.url, update.bytes)
    expect(res.status).toBe(200)
    const ack = parseUpdateAck(await res.json())
    // A retry after a timeout: the same bytes again, twice, concurrently.
    const retries = await Promise.all([
      postUpdate(server.url, update.bytes),
      postUpdate(server.url, update.bytes),
    ])
    for (const r of retries) expect(parseUpdateAck(await r.json())).toEqual({ ...ack, duplicate: true })
    const after = await status()
    // It closed round 2 (quorum 2): counted once, as the history says.
    expect(before).toMatchObject({ round: 2, participants: 1 })
    expect(after.history.at(-1)).toMatchObject({ round: 2, participants: 2, samples: 20 })
    expect(after).toMatchObject({ round: 3, participants: 0 })
  })

  it('still accepts a good update after all that, float16 (version 2) as well as float32 (version 1)', async () => {
    round = 3
    const res = await postUpdate(server.url, good().bytes)
    expect(res.status).toBe(200)
    expect(parseUpdateAck(await res.json())).toMatchObject({ round: 3, participants: 1, duplicate: false })
    const res16 = await postUpdate(
      server.url,
      patched16(() => {}),
    )
    expect(res16.status).toBe(200)
    expect(parseUpdateAck(await res16.json())).toMatchObject({ round: 3, participants: 2, duplicate: false })
  })
})

describe('evaluation reports', () => {
  // Only clients with an accepted update may report (evaluations.test.ts): this one takes part in the round.
  const clientId = newRandomId()
  const report = (users: number) =>
    fetch(`${server.url}/v1/evaluations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        round,
        modelVersion: round,
        clientId,
        idempotencyKey: newRandomId(),
        users,
        hits10: users,
        ndcg10: users,
      }),
    })

  it('a report claiming more users than --max-evaluation-users (default 1) → 400 evaluation_users_too_large, averages untouched', async () => {
    const before = (await status()).evaluations
    for (const users of [2, 1_000_000]) {
      const res = await report(users)
      expect(res.status).toBe(400)
      const { error } = parseErrorBody(await res.json())
      expect(error.code).toBe('evaluation_users_too_large')
      expect(error.message).toMatch(
        /at most 1 per report \(--max-evaluation-users\): send one report per evaluated shopper/,
      )
    }
    expect((await status()).evaluations).toEqual(before)
    // The open round by now (the tests above closed some): the client takes part in it.
    round = (await status()).round
    expect((await postUpdate(server.url, good({ clientId }).bytes)).status).toBe(200)
    expect((await report(1)).status).toBe(200)
    expect((await status()).evaluations.at(-1)).toMatchObject({ modelVersion: round, users: 1 })
  })
})

describe('--norm-policy clip', () => {
  it('scales an update above the bound down to it, counts it as clipped, and the model moves by the bound', async () => {
    const catalogue = join(dir, 'catalogue.json')
    const clip = await start([
      ...['--port', '0', '--store', join(dir, 'clip.sqlite'), '--init', '--catalogue', catalogue],
      ...['--dim', String(DIM), '--seed', '1', '--min-clients', '1', '--max-update-norm', '3'],
    ])
    const before = decodeModel(new Uint8Array(await (await fetch(`${clip.url}/v1/model`)).arrayBuffer()))
    const bytes = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 4, dim: DIM, bias: [[2, [30]]] }).bytes
    expect((await postUpdate(clip.url, bytes)).status).toBe(200)
    const after = decodeModel(new Uint8Array(await (await fetch(`${clip.url}/v1/model`)).arrayBuffer()))
    const bias = (m: typeof after) => m.tensors.find((t) => t.name === ITEM_BIAS)!.values
    expect(bias(after)[2]! - bias(before)[2]!).toBeCloseTo(3, 5)
    const s = await operatorStatus(clip.url)
    expect(s.history[0]).toMatchObject({ participants: 1, clipped: 1, clientUpdateNorm: { mean: 3, max: 3 } })
    expect(s.rejections).toEqual({})
  })
})
