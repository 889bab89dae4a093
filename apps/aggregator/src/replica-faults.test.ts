// Faults of replicas on one PostgreSQL store, with real processes and a real server: a replica SIGKILLed
// mid-round and as it closes the round, PostgreSQL restarted mid-round, three deadline timers racing. Each
// run ends compared with a single SQLite node fed the updates that were acknowledged: no acknowledged update
// lost, none counted twice.
import { parseErrorBody, parseUpdateAck, type UpdateAck } from '@fedrec/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPostgres, type TestPostgres } from './store/postgres/test-postgres.ts'
import { operatorStatus, postUpdate, start, useScratchDir } from './test-process.ts'
import {
  expectSameModel,
  modelOf,
  pollUntil,
  replicaArgs,
  roundReached,
  roundUpdates,
  singleNodeModel,
  startReplicas,
} from './test-replicas.ts'

let server: TestPostgres
beforeAll(async () => {
  server = await startPostgres()
}, 120_000)
afterAll(() => server?.stop(), 60_000)
const inDir = useScratchDir('fedrec-replica-faults-')

/** Sends `bytes` until a replica of `urls` answers (a dead one drops the connection): that answer's ack. */
async function sendUntilAcked(urls: readonly string[], bytes: Uint8Array): Promise<UpdateAck> {
  for (;;) {
    for (const url of urls) {
      try {
        const res = await postUpdate(url, bytes)
        if (res.status === 200) return parseUpdateAck(await res.json())
        await res.body?.cancel()
      } catch {
        // That replica is gone: the client tries another.
      }
    }
  }
}

/** Every replica in `urls` on round 1 with one closed round 0 of `count` participants and the single node's model. */
async function expectOneClose(urls: readonly string[], updates: readonly { bytes: Uint8Array }[]) {
  for (const url of urls) await roundReached(url, 1)
  const expected = await singleNodeModel(updates)
  for (const url of urls) {
    const status = await operatorStatus(url)
    expect(status).toMatchObject({ round: 1, modelVersion: 1 })
    expect(status.history).toEqual([expect.objectContaining({ round: 0, participants: updates.length })])
    const model = await modelOf(url)
    expect(model.etag).toBe('"v1"')
    expectSameModel(model.bytes, expected)
  }
}

describe('replica faults on one PostgreSQL store', () => {
  it('loses no acknowledged update when a replica is SIGKILLed mid-round; its clients retry elsewhere', async () => {
    const N = 12
    const url = await server.schema()
    const args = replicaArgs(inDir('c.json'), N)
    const replicas = await startReplicas(3, url, args)
    const updates = roundUpdates(N)
    // Half acknowledged before the kill, spread over the three.
    for (const [i, u] of updates.slice(0, 6).entries()) await sendUntilAcked([replicas[i % 3]!.url], u.bytes)
    // Three more in flight at replica 0 as it dies: acknowledged or not, their clients retry at the others.
    const inFlight = updates
      .slice(6, 9)
      .map((u) => postUpdate(replicas[0]!.url, u.bytes).catch(() => undefined))
    replicas[0]!.child.kill('SIGKILL')
    expect(await replicas[0]!.exited).toEqual({ code: null, signal: 'SIGKILL' })
    await Promise.all(inFlight)
    const survivors = [replicas[1]!.url, replicas[2]!.url]
    for (const u of updates.slice(6)) await sendUntilAcked(survivors, u.bytes)
    await expectOneClose(survivors, updates)
    // Restarted, the killed replica serves the same published model.
    const restarted = await start(['--store', url, ...args])
    await expectOneClose([restarted.url], updates)
  })

  it('closes the round exactly once when the replica whose upload met the quorum is SIGKILLed as it closes', async () => {
    const N = 9
    const url = await server.schema()
    const replicas = await startReplicas(3, url, replicaArgs(inDir('c.json'), N))
    const updates = roundUpdates(N, 100)
    for (const [i, u] of updates.slice(0, N - 1).entries())
      await sendUntilAcked([replicas[1 + (i % 2)]!.url], u.bytes)
    // The last update meets the quorum at replica 0, killed the moment it is sent: it dies before, during or
    // after its close. The client retries at the others, which close the round if replica 0 did not.
    const last = updates[N - 1]!
    const sent = postUpdate(replicas[0]!.url, last.bytes).catch(() => undefined)
    replicas[0]!.child.kill('SIGKILL')
    await sent
    const ack = await sendUntilAcked([replicas[1]!.url, replicas[2]!.url], last.bytes)
    expect(ack.round).toBe(0)
    await expectOneClose([replicas[1]!.url, replicas[2]!.url], updates)
  })

  it('answers 503 while PostgreSQL is down, and recovers with every acknowledged update when it is back', async () => {
    const N = 8
    const replicas = await startReplicas(3, await server.schema(), replicaArgs(inDir('c.json'), N))
    const urls = replicas.map((r) => r.url)
    const updates = roundUpdates(N, 200)
    for (const [i, u] of updates.slice(0, 4).entries()) await sendUntilAcked([urls[i % 3]!], u.bytes)
    await server.shutdown()
    try {
      for (const url of urls) {
        const res = await postUpdate(url, updates[4]!.bytes)
        expect(res.status).toBe(503)
        expect(parseErrorBody(await res.json()).error.code).toBe('store_unavailable')
        expect((await fetch(`${url}/v1/round`)).status).toBe(503)
      }
    } finally {
      await server.start()
    }
    // Back: the same replicas, no restart of theirs, take the rest.
    for (const [i, u] of updates.slice(4).entries()) await sendUntilAcked([urls[i % 3]!], u.bytes)
    await expectOneClose(urls, updates)
  })

  it('closes a round once when the deadline timers of three replicas race', async () => {
    // A one-second round and a quorum out of reach: the deadline closes it, at all three replicas at once.
    const replicas = await startReplicas(3, await server.schema(), replicaArgs(inDir('c.json'), 100, 1))
    const urls = replicas.map((r) => r.url)
    const updates = roundUpdates(6, 300)
    // A round that has closed meanwhile refuses an update for it: the comparison takes the accepted ones.
    const answers = await Promise.all(
      updates.map(async (u, i) => {
        const res = await postUpdate(urls[i % 3]!, u.bytes)
        return res.status === 200 ? u : parseErrorBody(await res.json()).error.code
      }),
    )
    const accepted = answers.filter((a) => typeof a !== 'string')
    expect(answers.filter((a) => typeof a === 'string').every((code) => code === 'round_closed')).toBe(true)
    expect(accepted.length).toBeGreaterThan(0)
    for (const url of urls) await roundReached(url, 1)
    const expected = await singleNodeModel(accepted)
    for (const url of urls) {
      const status = await pollUntil(
        () => operatorStatus(url),
        (s) => s.history.length > 0,
      )
      expect(status.history.filter((r) => r.round === 0)).toEqual([
        expect.objectContaining({ round: 0, participants: accepted.length, closedBy: 'deadline' }),
      ])
      const model = await fetch(`${url}/v1/model`)
      // Version 1 unless later one-second rounds closed too (they take no update here, so they only extend).
      expect(model.headers.get('etag')).toBe('"v1"')
      expectSameModel(new Uint8Array(await model.arrayBuffer()), expected)
    }
  })
})
