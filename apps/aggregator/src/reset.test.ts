// The operator reset of a round (POST /v1/round/reset), against a real aggregator process: behind the
// operator token, durable, and final — neither a retried key nor a restart brings a discarded update back.
import { writeFileSync } from 'node:fs'
import { decodeModel, newRandomId, parseErrorBody, parseRoundInfo, parseUpdateAck } from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { createAggregator } from './aggregator/index.ts'
import {
  getJson,
  operatorStatus,
  postUpdate,
  type Running,
  start,
  stop,
  useScratchDir,
} from './test-process.ts'
import { catalogueOf, makeUpdate, randomUpdate } from './test-support.ts'

const TOKEN = 'operator-secret-for-reset-tests'
const NUM_ITEMS = 12
const DIM = 4

const inDir = useScratchDir('fedrec-reset-')

function args(...extra: string[]): string[] {
  const catalogue = inDir('catalogue.json')
  writeFileSync(catalogue, JSON.stringify(catalogueOf(NUM_ITEMS)))
  return [
    ...['--port', '0', '--store', inDir('s.sqlite'), '--catalogue', catalogue, '--dim', String(DIM)],
    ...['--seed', '5', '--round-deadline', '600', '--client-rate', '0', '--ip-rate', '0'],
    // The synthetic updates claim n_k freely; the bound by rows has its own test (influence.test.ts).
    ...['--negatives', '1000'],
    ...['--operator-token', TOKEN, ...extra],
  ]
}

const reset = (server: Running, headers: Record<string, string> = { Authorization: `Bearer ${TOKEN}` }) =>
  fetch(`${server.url}/v1/round/reset`, { method: 'POST', headers })
const status = (server: Running) => operatorStatus(server.url, TOKEN)
const modelBytes = async (server: Running) =>
  new Uint8Array(await (await fetch(`${server.url}/v1/model`)).arrayBuffer())
const updates = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) =>
    randomUpdate(0, 0, { numItems: NUM_ITEMS, dim: DIM, seed: seed + i, sampleCount: 2 + i }),
  )

async function accept(server: Running, bytes: Uint8Array): Promise<void> {
  const res = await postUpdate(server.url, bytes)
  expect(res.status).toBe(200)
  expect(parseUpdateAck(await res.json()).duplicate).toBe(false)
}

describe('POST /v1/round/reset on a running aggregator', () => {
  it('401 without the operator token: nothing is discarded', async () => {
    const server = await start([...args('--init', '--min-clients', '10')])
    for (const u of updates(2, 1)) await accept(server, u.bytes)
    const attempts: Array<Record<string, string>> = [
      {},
      { Authorization: 'Bearer wrong' },
      { Authorization: TOKEN },
    ]
    for (const headers of attempts) {
      const res = await reset(server, headers)
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
      expect(parseErrorBody(await res.json()).error).toMatchObject({ code: 'unauthorized' })
    }
    expect(await status(server)).toMatchObject({ round: 0, participants: 2, resets: 0, discarded: 0 })
  })

  it('reset discards the open round and reopens it: same round and model, a fresh deadline, its clients may send again', async () => {
    const server = await start([...args('--init', '--min-clients', '3')], {
      DEBUG: 'fedrec:aggregator:round',
    })
    const model = await modelBytes(server)
    const deadline = parseRoundInfo(await getJson(`${server.url}/v1/round`)).config.deadline
    const poisoned = updates(2, 1)
    for (const u of poisoned) await accept(server, u.bytes)
    const res = await reset(server)
    expect(res.status).toBe(200)
    const answer: unknown = await res.json()
    expect(answer).toMatchObject({ round: 0, modelVersion: 0, discarded: 2, resets: 1 })
    const info = parseRoundInfo(await getJson(`${server.url}/v1/round`))
    expect(info).toMatchObject({ round: 0, modelVersion: 0 })
    expect(Date.parse(info.config.deadline)).toBeGreaterThanOrEqual(Date.parse(deadline))
    expect(answer).toMatchObject({ deadline: info.config.deadline })
    expect(await status(server)).toMatchObject({ participants: 0, samples: 0, resets: 1, discarded: 2 })
    expect(await modelBytes(server)).toEqual(model)
    await expect.poll(server.stderr).toMatch(/round 0 reset by the operator: 2 accepted updates discarded/)
    // The clients of the discarded round are not `already_submitted`: new updates, new keys.
    const again = poisoned.map((u, i) =>
      makeUpdate({
        round: 0,
        modelVersion: 0,
        sampleCount: 1,
        dim: DIM,
        clientId: u.update.clientId,
        bias: [[i, [0.5]]],
      }),
    )
    for (const u of again) await accept(server, u.bytes)
    await accept(server, updates(1, 50)[0]!.bytes)
    const s = await status(server)
    expect(s).toMatchObject({ round: 1, modelVersion: 1, participants: 0, resets: 0 })
    expect(s.history).toEqual([
      expect.objectContaining({ round: 0, participants: 3, resets: 1, discarded: 2 }),
    ])
  })

  it('a key retried after a reset → 409 round_reset with what to do, never a duplicate ack, counted nowhere', async () => {
    const server = await start([...args('--init', '--min-clients', '10')])
    const [u] = updates(1, 7)
    await accept(server, u!.bytes)
    expect(await (await reset(server)).json()).toMatchObject({ discarded: 1 })
    // A client whose answer was lost retries, twice at once, then once more.
    const retries = await Promise.all([postUpdate(server.url, u!.bytes), postUpdate(server.url, u!.bytes)])
    retries.push(await postUpdate(server.url, u!.bytes))
    for (const res of retries) {
      expect(res.status).toBe(409)
      const { error } = parseErrorBody(await res.json())
      expect(error.code).toBe('round_reset')
      expect(error.message).toMatch(/send a new update under a new idempotency key/)
    }
    const s = await status(server)
    expect(s).toMatchObject({ participants: 0, samples: 0 })
    expect(s.rejections).toMatchObject({ round_reset: 3 })
    const fresh = makeUpdate({
      round: 0,
      modelVersion: 0,
      sampleCount: 3,
      dim: DIM,
      clientId: u!.update.clientId,
      bias: [[0, [1]]],
    })
    await accept(server, fresh.bytes)
    expect(await status(server)).toMatchObject({ participants: 1, samples: 3 })
  })

  it('replay after a restart does not resurrect discarded updates (SIGKILL, then SIGTERM)', async () => {
    let server = await start([...args('--init', '--min-clients', '100')])
    const model = await modelBytes(server)
    const discarded = updates(5, 20)
    for (const u of discarded) await accept(server, u.bytes)
    expect(await (await reset(server)).json()).toMatchObject({ discarded: 5 })
    server.child.kill('SIGKILL')
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' })

    server = await start(args('--min-clients', '100'))
    expect(await status(server)).toMatchObject({
      round: 0,
      participants: 0,
      samples: 0,
      resets: 1,
      discarded: 5,
    })
    expect(await modelBytes(server)).toEqual(model)
    for (const u of discarded) {
      const res = await postUpdate(server.url, u.bytes)
      expect(parseErrorBody(await res.json()).error.code).toBe('round_reset')
    }
    // One update after the reset: the only one a replay may count.
    const kept = makeUpdate({
      round: 0,
      modelVersion: 0,
      sampleCount: 4,
      dim: DIM,
      clientId: discarded[0]!.update.clientId,
      bias: [[3, [0.75]]],
      embedding: [[3, [0.1, -0.2, 0.3, -0.4]]],
    })
    await accept(server, kept.bytes)
    expect(await stop(server, 'SIGTERM')).toEqual({ code: 0, signal: null })

    server = await start(args('--min-clients', '100'))
    expect(await status(server)).toMatchObject({ round: 0, participants: 1, samples: 4, resets: 1 })
    expect(await stop(server, 'SIGTERM')).toEqual({ code: 0, signal: null })

    // A quorum of one closes the round at start: the model is that one update's, nothing of the five.
    server = await start(args('--min-clients', '1'))
    const s = await status(server)
    expect(s).toMatchObject({ round: 1, modelVersion: 1 })
    expect(s.history).toEqual([
      expect.objectContaining({ round: 0, participants: 1, samples: 4, resets: 1, discarded: 5 }),
    ])
    const reference = await createAggregator({
      negativesPerPositive: 1000,
      store: ':memory:',
      catalogue: catalogueOf(NUM_ITEMS),
      dim: DIM,
      seed: 5,
      minClients: 1,
      deadlineTimer: false,
    })
    await reference.submit(kept.bytes)
    const expected = decodeModel(reference.model().bytes)
    await reference.close()
    expect(decodeModel(await modelBytes(server))).toEqual(expected)
    // The unknown-key path still works after all that.
    expect(
      (
        await postUpdate(
          server.url,
          makeUpdate({ round: 1, modelVersion: 1, sampleCount: 1, dim: DIM, clientId: newRandomId() }).bytes,
        )
      ).status,
    ).toBe(200)
  })
})
