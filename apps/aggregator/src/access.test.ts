// Access rules of a real aggregator process: the operator token, the CORS allow-list, upload rate limits,
// and logs that hold neither client ids nor payloads.
import { writeFileSync } from 'node:fs'
import { newRandomId, parseErrorBody } from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { operatorStatus, postUpdate, start, useScratchDir } from './test-process.ts'
import { makeUpdate } from './test-support.ts'

const TOKEN = 'operator-secret-for-tests'
const inDir = useScratchDir('fedrec-access-')

const base = () => ['--port', '0', '--store', inDir('s.sqlite'), '--init', '--operator-token', TOKEN]

describe('operator endpoints', () => {
  it('refuse requests without the operator token, with a 401 that says what is needed', async () => {
    const server = await start(base())
    const send = (headers: Record<string, string>) =>
      fetch(`${server.url}/v1/catalogue`, {
        method: 'POST',
        body: JSON.stringify({ itemIds: ['a', 'b'] }),
        headers: { 'Content-Type': 'application/json', ...headers },
      })
    const attempts: Array<Record<string, string>> = [
      {},
      { Authorization: 'Bearer wrong' },
      { Authorization: TOKEN },
    ]
    for (const headers of attempts) {
      const res = await send(headers)
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
      expect(parseErrorBody(await res.json()).error.message).toMatch(/operator token/)
    }
    expect((await operatorStatus(server.url, TOKEN)).numItems).toBe(0)
    const ok = await send({ Authorization: `Bearer ${TOKEN}` })
    expect(ok.status).toBe(200)
    expect((await operatorStatus(server.url, TOKEN)).numItems).toBe(2)
  })
})

describe('CORS allow-list', () => {
  it('grants listed storefront origins and nothing to others, on requests and preflights', async () => {
    const server = await start([
      ...base(),
      '--cors-origin',
      'https://shop.example,https://other-shop.example',
    ])
    const get = (origin: string) => fetch(`${server.url}/v1/round`, { headers: { Origin: origin } })
    const preflight = (origin: string) =>
      fetch(`${server.url}/v1/updates`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type',
        },
      })
    for (const origin of ['https://shop.example', 'https://other-shop.example']) {
      expect((await get(origin)).headers.get('access-control-allow-origin')).toBe(origin)
      expect((await preflight(origin)).headers.get('access-control-allow-origin')).toBe(origin)
    }
    for (const origin of ['https://evil.example', 'https://shop.example.evil.example', 'null']) {
      const res = await get(origin)
      expect(res.status).toBe(200)
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
      expect(res.headers.get('access-control-allow-credentials')).toBeNull()
      expect((await preflight(origin)).headers.get('access-control-allow-origin')).toBeNull()
    }
  })
})

describe('upload rate limits', () => {
  const update = (clientId = newRandomId()) =>
    makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: 4, clientId }).bytes

  it('per client: 429 with Retry-After once a client id spends its budget', async () => {
    const server = await start([...base(), '--client-rate', '2', '--ip-rate', '0', '--min-clients', '100'])
    const clientId = newRandomId()
    // An empty catalogue refuses every update (409), but each attempt still spends the client's budget.
    for (let i = 0; i < 2; i++) expect((await postUpdate(server.url, update(clientId))).status).toBe(409)
    const limited = await postUpdate(server.url, update(clientId))
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(parseErrorBody(await limited.json()).error).toMatchObject({ code: 'rate_limited' })
    // Another client is not affected.
    expect((await postUpdate(server.url, update())).status).toBe(409)
    const s = await operatorStatus(server.url, TOKEN)
    expect(s.rejections).toMatchObject({ rate_limited: 1, empty_catalogue: 3 })
  })

  it('per address: 429 before the body is read, whatever client ids the bodies claim', async () => {
    const server = await start([...base(), '--client-rate', '0', '--ip-rate', '3'])
    for (let i = 0; i < 3; i++) expect((await postUpdate(server.url, update())).status).toBe(409)
    const limited = await postUpdate(server.url, update())
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('20')
    // Reads are not limited.
    expect((await fetch(`${server.url}/v1/round`)).status).toBe(200)
  })
})

describe('logs', () => {
  it('never hold a client id or an update payload in clear, even at the most verbose level', async () => {
    const catalogue = inDir('catalogue.json')
    writeFileSync(catalogue, JSON.stringify(['a', 'b', 'c']))
    const args = [...base(), '--catalogue', catalogue, '--dim', '4', '--min-clients', '2']
    const server = await start(args, { DEBUG: 'fedrec:*' })
    const clientIds = [newRandomId(), newRandomId()]
    // Values no statistic of the round can equal: only a dump of a payload would print them.
    const values = [0.123456, 0.654321]
    const bodies = clientIds.map(
      (clientId, i) =>
        makeUpdate({ round: 0, modelVersion: 0, sampleCount: 4, dim: 4, clientId, bias: [[i, [values[i]!]]] })
          .bytes,
    )
    // Accepted, retried, refused (a second update of the same client), then the round closes.
    expect((await postUpdate(server.url, bodies[0]!)).status).toBe(200)
    expect((await postUpdate(server.url, bodies[0]!)).status).toBe(200)
    const second = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: 4, clientId: clientIds[0] })
    expect((await postUpdate(server.url, second.bytes)).status).toBe(409)
    expect((await postUpdate(server.url, bodies[1]!)).status).toBe(200)
    await expect.poll(server.stderr).toMatch(/round 0 closed by quorum/)
    const log = server.stderr()
    // The log did record the story (so the test cannot pass on an empty log)…
    expect(log).toMatch(/fedrec:aggregator:update .*update accepted for round 0/)
    expect(log).toMatch(/fedrec:aggregator:update .*retry of an accepted update/)
    expect(log).toMatch(/already_submitted/)
    // …without the ids, in hex or in any case, nor the payload bytes.
    for (const id of clientIds) {
      expect(log.toLowerCase()).not.toContain(id.toLowerCase())
      expect(log).not.toContain(Buffer.from(id, 'hex').toString('base64'))
    }
    for (const body of bodies) expect(log).not.toContain(Buffer.from(body.subarray(20, 36)).toString('hex'))
    for (const v of values) expect(log).not.toContain(String(v))
  })
})
