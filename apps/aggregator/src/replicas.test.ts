// Three aggregator replicas (real processes) on one real PostgreSQL server, real HTTP clients: any replica
// takes any request, the round closes exactly once, and every replica publishes the model a single SQLite
// aggregator computes from the same updates.
import { newRandomId, parseErrorBody, parseUpdateAck, type UpdateAck } from '@fedrec/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPostgres, type TestPostgres } from './store/postgres/test-postgres.ts'
import { operatorStatus, postUpdate, start, useScratchDir } from './test-process.ts'
import {
  DIM,
  expectSameModel,
  modelOf,
  replicaArgs,
  roundReached,
  roundUpdates,
  singleNodeModel,
  startReplicas,
} from './test-replicas.ts'
import { makeUpdate } from './test-support.ts'

let server: TestPostgres
beforeAll(async () => {
  server = await startPostgres()
}, 120_000)
afterAll(() => server?.stop(), 60_000)
const inDir = useScratchDir('fedrec-replicas-')

describe('three aggregator replicas on one PostgreSQL store', () => {
  it('closes the round exactly once on uploads spread over the replicas; every replica serves the same model, equal to a single node', async () => {
    const N = 12
    const replicas = await startReplicas(3, await server.schema(), replicaArgs(inDir('c.json'), N))
    const updates = roundUpdates(N)
    // All at once, round-robin over the replicas: the quorum is met by whichever commit comes last.
    const acks = await Promise.all(
      updates.map(async (u, i) => {
        const res = await postUpdate(replicas[i % 3]!.url, u.bytes)
        expect(res.status, await res.clone().text()).toBe(200)
        return parseUpdateAck(await res.json())
      }),
    )
    expect(acks.every((a) => a.round === 0 && !a.duplicate)).toBe(true)
    for (const r of replicas) await roundReached(r.url, 1)

    const models = await Promise.all(replicas.map((r) => modelOf(r.url)))
    for (const m of models) {
      expect(m.etag).toBe('"v1"')
      expect(m.bytes).toEqual(models[0]!.bytes)
    }
    expectSameModel(models[0]!.bytes, await singleNodeModel(updates))
    // One close: one closed round with every update in it, and round 1 open on version 1 at every replica.
    for (const r of replicas) {
      const status = await operatorStatus(r.url)
      expect(status).toMatchObject({ round: 1, modelVersion: 1, participants: 0 })
      expect(status.history).toEqual([
        expect.objectContaining({ round: 0, participants: N, closedBy: 'quorum' }),
      ])
    }
  })

  it('starts two replicas given --init at once on an empty database: one creates the store, the other opens it', async () => {
    const url = await server.schema()
    const args = ['--store', url, '--init', ...replicaArgs(inDir('c.json'), 2)]
    const both = await Promise.all([start(args), start(args)])
    const created = both.filter((r) => r.stderr().includes('created a fresh store'))
    expect(created, both.map((r) => r.stderr()).join('\n---\n')).toHaveLength(1)
    const [a, b] = await Promise.all(both.map((r) => modelOf(r.url)))
    expect(a!.etag).toBe('"v0"')
    expect(b!.bytes).toEqual(a!.bytes)
    // One store: an update through either counts at both.
    await postUpdate(both[1]!.url, roundUpdates(1)[0]!.bytes)
    for (const r of both) expect(await operatorStatus(r.url)).toMatchObject({ round: 0, participants: 1 })
  })

  it('answers a retry at any replica with the first ack, and refuses a second update of a client at any replica, also when they arrive at once', async () => {
    const replicas = await startReplicas(3, await server.schema(), replicaArgs(inDir('c.json'), 100))
    const [a, b, c] = replicas.map((r) => r.url) as [string, string, string]
    const send = async (url: string, bytes: Uint8Array) => {
      const res = await postUpdate(url, bytes)
      return { status: res.status, body: (await res.json()) as unknown }
    }
    const upload = (clientId: string, idempotencyKey = newRandomId()) =>
      makeUpdate({
        round: 0,
        modelVersion: 0,
        sampleCount: 2,
        dim: DIM,
        bias: [[1, [0.1]]],
        clientId,
        idempotencyKey,
      })

    // One update sent to two replicas at once: stored once, both acked, one of them as the duplicate —
    // whether the other replica's commit lands before its key lookup, between that and its client check, or
    // during its insert. Five tries over the pairs of replicas; CI once caught the second case as a 409.
    const pairs = [
      [a, b],
      [b, c],
      [c, a],
      [a, b],
      [b, c],
    ] as const
    for (const [x, y] of pairs) {
      const update = upload(newRandomId())
      const both = await Promise.all([send(x, update.bytes), send(y, update.bytes)])
      expect(
        both.map((r) => r.status),
        JSON.stringify(both),
      ).toEqual([200, 200])
      const [ackX, ackY] = both.map((r) => parseUpdateAck(r.body)) as [UpdateAck, UpdateAck]
      expect([ackX.duplicate, ackY.duplicate].sort()).toEqual([false, true])
      expect({ ...ackX, duplicate: false }).toEqual({ ...ackY, duplicate: false })
    }
    const one = upload(newRandomId())
    const first = parseUpdateAck((await send(a, one.bytes)).body)
    // Later, at the third replica: the same ack.
    expect(parseUpdateAck((await send(c, one.bytes)).body)).toEqual({ ...first, duplicate: true })

    // The same key from another client: refused at every replica.
    const stolen = upload(newRandomId(), one.update.idempotencyKey)
    for (const url of [a, b, c]) {
      const res = await send(url, stolen.bytes)
      expect(res.status).toBe(409)
      expect(parseErrorBody(res.body).error.code).toBe('idempotency_conflict')
    }
    // A second update (a new key) of the same client: already submitted, whichever replica it reaches.
    const again = upload(one.update.clientId)
    for (const url of [a, b, c]) {
      const res = await send(url, again.bytes)
      expect(res.status).toBe(409)
      expect(parseErrorBody(res.body).error.code).toBe('already_submitted')
    }

    // Two different updates of one new client at two replicas at once: one accepted, one already submitted.
    for (let trial = 0; trial < 5; trial++) {
      const clientId = newRandomId()
      const answers = await Promise.all([send(b, upload(clientId).bytes), send(c, upload(clientId).bytes)])
      const codes = answers.map((r) => (r.status === 200 ? 'accepted' : parseErrorBody(r.body).error.code))
      expect(codes.sort()).toEqual(['accepted', 'already_submitted'])
    }
    // Counted once each, at every replica: the five sent twice at once, the first client and the five.
    for (const url of [a, b, c])
      expect(await operatorStatus(url)).toMatchObject({ round: 0, participants: 11 })
  })
})
