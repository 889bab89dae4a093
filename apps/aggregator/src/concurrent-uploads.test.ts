// Uploads and evaluation reports that arrive together over real HTTP: the per-process lock keeps "already
// submitted?", "already evaluated?" and the close on quorum from interleaving — two uploads (or reports) of
// one client give one acceptance and one refusal, and uploads that each complete the quorum close the round
// once (fired together with Promise.all, no sleeps).
import { newRandomId, parseErrorBody, parseUpdateAck } from '@fedrec/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { type RunningServer, startServer } from './server.ts'
import { operatorStatus, postUpdate, TEST_OPERATOR_TOKEN } from './test-process.ts'
import { catalogueOf, makeUpdate } from './test-support.ts'

const DIM = 4
let running: RunningServer[] = []
afterEach(async () => {
  await Promise.all(running.map((s) => s.close()))
  running = []
})

async function serve(minClients: number): Promise<RunningServer> {
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    store: ':memory:',
    catalogue: catalogueOf(6),
    dim: DIM,
    seed: 2,
    minClients,
    deadlineTimer: false,
    negativesPerPositive: 1000,
    corsOrigins: ['*'],
    maxBodyBytes: 1 << 20,
    operatorToken: TEST_OPERATOR_TOKEN,
    clientRatePerMinute: 0,
    ipRatePerMinute: 0,
  })
  running.push(server)
  return server
}

/** An update of round 0 from `clientId` (a fresh key each time) moving item `row`'s bias. */
const update = (clientId: string, row: number) =>
  makeUpdate({ round: 0, modelVersion: 0, sampleCount: 2, dim: DIM, bias: [[row, [0.25]]], clientId }).bytes

/** The answers' error codes, `accepted` for a 200. */
async function outcomes(responses: Response[]): Promise<string[]> {
  return Promise.all(
    responses.map(async (res) => {
      const body: unknown = await res.json()
      if (res.status === 200) return parseUpdateAck(body).accepted ? 'accepted' : 'refused'
      return `${res.status} ${parseErrorBody(body).error.code}`
    }),
  )
}

describe('concurrent uploads over HTTP', () => {
  it('two updates of one client sent together: exactly one is accepted, the other is already_submitted', async () => {
    const server = await serve(5)
    const client = newRandomId()
    const answers = await outcomes(
      await Promise.all([
        postUpdate(server.url, update(client, 1)),
        postUpdate(server.url, update(client, 2)),
      ]),
    )
    expect(answers.sort()).toEqual(['409 already_submitted', 'accepted'])
    expect(await operatorStatus(server.url)).toMatchObject({ round: 0, participants: 1 })
  })

  it('uploads that each complete the quorum close the round once: model version 1, one closed round', async () => {
    const server = await serve(2)
    expect(await outcomes([await postUpdate(server.url, update(newRandomId(), 0))])).toEqual(['accepted'])
    const together = await outcomes(
      await Promise.all([1, 2, 3].map((row) => postUpdate(server.url, update(newRandomId(), row)))),
    )
    // Each is either in the round that closed, or refused because it closed: never counted in round 1.
    for (const answer of together) expect(['accepted', '409 round_closed']).toContain(answer)
    const status = await operatorStatus(server.url)
    expect(status).toMatchObject({ round: 1, modelVersion: 1, participants: 0 })
    expect(status.history).toHaveLength(1)
    expect(status.history[0]).toMatchObject({ round: 0, closedBy: 'quorum' })
    expect(status.history[0]?.participants).toBe(1 + together.filter((a) => a === 'accepted').length)
  })

  it('two evaluation reports of one client sent together: exactly one is counted, the other is already_evaluated', async () => {
    // Without the lock both would pass "already evaluated?" across the awaits before either is written.
    const server = await serve(5)
    const client = newRandomId()
    expect(await outcomes([await postUpdate(server.url, update(client, 1))])).toEqual(['accepted'])
    const report = () => ({
      round: 0,
      modelVersion: 0,
      clientId: client,
      idempotencyKey: newRandomId(),
      users: 1,
      hits10: 1,
      ndcg10: 0.5,
    })
    const send = () =>
      fetch(`${server.url}/v1/evaluations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(report()),
      })
    const answers = await Promise.all(
      (await Promise.all([send(), send()])).map(async (res) =>
        res.status === 200 ? 'counted' : `${res.status} ${parseErrorBody(await res.json()).error.code}`,
      ),
    )
    expect(answers.sort()).toEqual(['409 already_evaluated', 'counted'])
    const { evaluations } = await operatorStatus(server.url)
    expect(evaluations).toEqual([expect.objectContaining({ modelVersion: 0, users: 1 })])
  })
})
