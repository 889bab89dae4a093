// The real thing: the CLI in its own process, over real HTTP, killed without warning and restarted.
import { chmodSync, existsSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  decodeModel,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  parseErrorBody,
  parseRoundInfo,
  parseUpdateAck,
  type UpdateAck,
} from '@fedrec/protocol'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { createAggregator } from './aggregator/index.ts'
import { getJson, launch, operatorStatus, postUpdate, start, stop, useScratchDir } from './test-process.ts'
import { catalogueOf, randomUpdate } from './test-support.ts'

const inDir = useScratchDir('fedrec-cli-')

describe('fedrec-aggregator CLI', () => {
  it('counts every acknowledged update exactly once across a SIGKILL mid-round, and the round completes', async () => {
    const NUM_ITEMS = 40
    const DIM = 4
    const N = 30
    const catalogue = inDir('catalogue.json')
    writeFileSync(
      catalogue,
      JSON.stringify(catalogueOf(NUM_ITEMS).map((id, i) => ({ id, name: `Item ${i}` }))),
    )
    const store = inDir('nested', 's.sqlite')
    const args = ['--port', '0', '--store', store, '--catalogue', catalogue, '--dim', String(DIM)]
    args.push('--seed', '3', '--round-deadline', '600', '--client-rate', '0', '--ip-rate', '0')
    // The synthetic updates claim n_k freely; the bound by rows has its own test (influence.test.ts).
    args.push('--negatives', '1000')
    const updates = Array.from({ length: N }, (_, i) =>
      randomUpdate(0, 0, { numItems: NUM_ITEMS, dim: DIM, seed: i + 1, sampleCount: 1 + ((i * 7) % 13) }),
    )

    // Quorum out of reach: the round is open when the process dies.
    let server = await start([...args, '--init', '--min-clients', String(N + 1)])
    const acked = new Map<string, UpdateAck>()
    let killed = false
    const acksBeforeKill = new Promise<void>((resolve) => {
      for (const u of updates) {
        postUpdate(server.url, u.bytes)
          .then(async (res) => {
            if (killed) return
            const ack = parseUpdateAck(await res.json())
            acked.set(ack.idempotencyKey, ack)
            if (acked.size >= 10) resolve()
          })
          .catch(() => {
            // The connection died with the process: this client never got an ack.
          })
      }
    })
    await acksBeforeKill
    killed = true
    server.child.kill('SIGKILL')
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' })
    const ackedKeys = [...acked.keys()]
    expect(ackedKeys.length).toBeGreaterThanOrEqual(10)

    // The same store, no --init: it exists. Every acknowledged update survived.
    server = await start([...args, '--min-clients', String(N + 1)])
    const afterCrash = await operatorStatus(server.url)
    expect(afterCrash).toMatchObject({ round: 0 })
    expect(afterCrash.participants).toBeGreaterThanOrEqual(ackedKeys.length)
    // Every client retries what it did not get an ack for — and, to prove the point, the acked ones too.
    for (const u of updates) {
      const res = await postUpdate(server.url, u.bytes)
      expect(res.status).toBe(200)
      const ack = parseUpdateAck(await res.json())
      if (acked.has(u.update.idempotencyKey)) {
        expect(ack).toEqual({ ...acked.get(u.update.idempotencyKey), duplicate: true })
      }
    }
    const samples = updates.reduce((s, u) => s + u.update.sampleCount, 0)
    expect(await operatorStatus(server.url)).toMatchObject({
      round: 0,
      participants: N,
      samples,
    })
    expect(await stop(server, 'SIGTERM')).toEqual({ code: 0, signal: null })

    // Restarted with a quorum the stored updates meet: the round closes on start.
    server = await start([...args, '--min-clients', String(N)])
    const status = await operatorStatus(server.url)
    expect(status).toMatchObject({ round: 1, modelVersion: 1, participants: 0 })
    expect(status.history).toEqual([
      expect.objectContaining({ round: 0, participants: N, samples, closedBy: 'quorum' }),
    ])
    // The published model is the one an aggregator that never crashed computes from the same N updates.
    const reference = await createAggregator({
      negativesPerPositive: 1000,
      store: ':memory:',
      catalogue: catalogueOf(NUM_ITEMS),
      dim: DIM,
      seed: 3,
      minClients: N,
      deadlineTimer: false,
    })
    for (const u of updates) await reference.submit(u.bytes)
    const expected = decodeModel(reference.model().bytes)
    await reference.close()
    expect(expected.modelVersion).toBe(1)
    const res = await fetch(`${server.url}/v1/model`)
    expect(res.headers.get('etag')).toBe('"v1"')
    const actual = decodeModel(new Uint8Array(await res.arrayBuffer()))
    for (const name of [ITEM_EMBEDDING, ITEM_BIAS]) {
      const a = actual.tensors.find((t) => t.name === name)!.values
      const e = expected.tensors.find((t) => t.name === name)!.values
      expect(a).toHaveLength(e.length)
      for (const [i, v] of a.entries()) expect(v).toBeCloseTo(e[i]!, 5)
    }
    const late = await postUpdate(
      server.url,
      randomUpdate(0, 0, { numItems: NUM_ITEMS, dim: DIM, seed: 99 }).bytes,
    )
    expect(late.status).toBe(409)
    expect(parseErrorBody(await late.json()).error.code).toBe('round_closed')
    expect(await stop(server, 'SIGTERM')).toEqual({ code: 0, signal: null })
  })

  it('after a SIGKILL and restart, a quorum close that fails is tried again: the last update does not leave the round open', async () => {
    // The e2e restart scenario, with the one failure that acknowledges an update without closing its round:
    // the close transaction fails after the update that met the quorum has committed. The failure is a real
    // SQLite error (a trigger), and it clears once the store holds an evaluation report, standing in for a
    // disk that has room again. No later update comes: every client has contributed.
    const catalogue = inDir('catalogue.json')
    writeFileSync(catalogue, JSON.stringify(catalogueOf(20).map((id, i) => ({ id, name: `Item ${i}` }))))
    const store = inDir('s.sqlite')
    const args = [
      '--port',
      '0',
      '--store',
      store,
      '--catalogue',
      catalogue,
      '--dim',
      '4',
      '--min-clients',
      '3',
    ]
    args.push('--round-deadline', '600', '--seed', '5')
    const [u0, u1, last] = [1, 2, 3].map((seed) => randomUpdate(0, 0, { numItems: 20, dim: 4, seed }))
    let server = await start([...args, '--init'])
    for (const u of [u0!, u1!]) expect((await postUpdate(server.url, u.bytes)).status).toBe(200)
    server.child.kill('SIGKILL')
    await server.exited

    const db = new Database(store)
    db.exec(`CREATE TRIGGER test_close_fails BEFORE INSERT ON rounds
      WHEN NEW.round = 1 AND NOT EXISTS (SELECT 1 FROM evaluations)
      BEGIN SELECT RAISE(ABORT, 'test: the close cannot be written'); END`)
    db.close()
    server = await start(args)
    const statusOf = () => operatorStatus(server.url)
    expect(await statusOf()).toMatchObject({ round: 0, participants: 2 })
    // A client that already contributed retries: its ack, not a second count.
    const again = parseUpdateAck(await (await postUpdate(server.url, u0!.bytes)).json())
    expect(again).toMatchObject({ duplicate: true, participants: 1 })

    const ack = parseUpdateAck(await (await postUpdate(server.url, last!.bytes)).json())
    expect(ack).toMatchObject({ round: 0, duplicate: false, participants: 3 })
    // The close failed — logged without DEBUG, as every error is (waited for as a state, not a duration) —
    // and the round is open with all three.
    await expect
      .poll(server.stderr)
      .toMatch(
        /"event":"round_close_failed","round":0,"closedBy":"quorum",.*test: the close cannot be written/,
      )
    expect(await statusOf()).toMatchObject({ round: 0, modelVersion: 0, participants: 3 })

    const report = {
      round: 0,
      modelVersion: 0,
      // Reports come from clients with an accepted update: this one took part in round 0.
      clientId: last!.update.clientId,
      idempotencyKey: 'ab'.repeat(16),
      users: 1,
      hits10: 1,
      ndcg10: 0.5,
    }
    const res = await fetch(`${server.url}/v1/evaluations`, {
      method: 'POST',
      body: JSON.stringify(report),
      headers: { 'Content-Type': 'application/json' },
    })
    expect(res.status).toBe(200)
    await expect.poll(async () => (await statusOf()).modelVersion).toBe(1)
    const status = await statusOf()
    expect(status).toMatchObject({ round: 1, modelVersion: 1, participants: 0 })
    expect(status.history).toEqual([
      expect.objectContaining({ round: 0, participants: 3, closedBy: 'quorum' }),
    ])
  })

  it('a quorum lowered by PATCH /v1/config whose close fails answers with the settings and retries the close', async () => {
    // Issue 15: on a full disk the PATCH answered 500 with the new value live, and the close it triggered was
    // never tried again. The failure is a real SQLite error (a trigger) that clears once the store holds an
    // evaluation report, standing in for a disk that has room again.
    const catalogue = inDir('catalogue.json')
    writeFileSync(catalogue, JSON.stringify(catalogueOf(20)))
    const store = inDir('s.sqlite')
    const token = 'operator-token-for-the-patch-test'
    const args = ['--port', '0', '--store', store, '--catalogue', catalogue, '--dim', '4', '--seed', '6']
    args.push('--min-clients', '5', '--round-deadline', '600', '--operator-token', token)
    let server = await start([...args, '--init'])
    const clientIds: string[] = []
    for (const seed of [1, 2]) {
      const { bytes, update } = randomUpdate(0, 0, { numItems: 20, dim: 4, seed, sampleCount: 4 })
      expect((await postUpdate(server.url, bytes)).status).toBe(200)
      clientIds.push(update.clientId)
    }
    expect(await stop(server, 'SIGTERM')).toEqual({ code: 0, signal: null })
    const db = new Database(store)
    db.exec(`CREATE TRIGGER test_close_fails BEFORE INSERT ON rounds
      WHEN NEW.round = 1 AND NOT EXISTS (SELECT 1 FROM evaluations)
      BEGIN SELECT RAISE(ABORT, 'test: the close cannot be written'); END`)
    db.close()
    server = await start(args)
    const statusOf = () => operatorStatus(server.url, token)

    const res = await fetch(`${server.url}/v1/config`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ minClients: 2 }),
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ minClients: 2 })
    expect(await statusOf()).toMatchObject({ round: 0, participants: 2 })
    await expect.poll(server.stderr).toMatch(/"event":"round_close_failed","round":0,"closedBy":"quorum"/)

    // Room again: the retry closes the round without any further request.
    const report = {
      round: 0,
      modelVersion: 0,
      clientId: clientIds[0],
      idempotencyKey: 'cd'.repeat(16),
      users: 1,
      hits10: 0,
      ndcg10: 0,
    }
    const evaluation = await fetch(`${server.url}/v1/evaluations`, {
      method: 'POST',
      body: JSON.stringify(report),
      headers: { 'Content-Type': 'application/json' },
    })
    expect(evaluation.status).toBe(200)
    await expect.poll(async () => (await statusOf()).modelVersion).toBe(1)
    expect((await statusOf()).history).toEqual([
      expect.objectContaining({ round: 0, participants: 2, closedBy: 'quorum' }),
    ])
  })

  it('notices a store deleted under it: uploads get 503 store_unavailable and why, never an ack that would be lost', async () => {
    const catalogue = inDir('catalogue.json')
    writeFileSync(catalogue, JSON.stringify(catalogueOf(20)))
    const store = inDir('s.sqlite')
    const args = [
      '--port',
      '0',
      '--store',
      store,
      '--catalogue',
      catalogue,
      '--dim',
      '4',
      '--min-clients',
      '5',
    ]
    const server = await start([...args, '--init'])
    const [first, second] = [1, 2].map((seed) =>
      randomUpdate(0, 0, { numItems: 20, dim: 4, seed, sampleCount: 4 }),
    )
    expect((await postUpdate(server.url, first!.bytes)).status).toBe(200)
    unlinkSync(store)

    const res = await postUpdate(server.url, second!.bytes)
    expect(res.status).toBe(503)
    const body = parseErrorBody(await res.json())
    expect(body.error.code).toBe('store_unavailable')
    expect(body.error.message).toMatch(
      /was deleted or replaced while the aggregator runs \(the file is gone\).*restore the file/,
    )
    await expect.poll(server.stderr).toMatch(/"event":"store_lost"/)
    // Reading what is in memory still works; nothing more was counted.
    expect(await operatorStatus(server.url)).toMatchObject({ round: 0, participants: 1 })
  })

  it('refuses a corrupt store file with a clear message and a non-zero exit', async () => {
    const store = inDir('s.sqlite')
    writeFileSync(store, Buffer.from(Array.from({ length: 16384 }, (_, i) => (i * 7919 + 13) % 256)))
    const launched = launch(['--port', '0', '--store', store, '--init'])
    expect((await launched.exited).code).toBe(1)
    expect(launched.stderr()).toMatch(/cannot start: store .*s\.sqlite is not a readable SQLite database/)
  })

  it('refuses a model whose bytes were damaged in the store (checksum), and one holding NaN; an old store gets its checksum', async () => {
    const catalogue = inDir('catalogue.json')
    writeFileSync(catalogue, JSON.stringify(catalogueOf(20)))
    const store = inDir('s.sqlite')
    const args = ['--port', '0', '--store', store, '--catalogue', catalogue, '--dim', '4', '--seed', '2']
    let server = await start([...args, '--init'])
    const served = new Uint8Array(await (await fetch(`${server.url}/v1/model`)).arrayBuffer())
    expect(await stop(server, 'SIGTERM')).toEqual({ code: 0, signal: null })
    const edit = (sql: string, ...params: unknown[]) => {
      const db = new Database(store)
      db.prepare(sql).run(...params)
      db.close()
    }
    const db = new Database(store, { readonly: true })
    const original = Buffer.from(db.prepare('SELECT item_embedding FROM model').pluck().get() as Buffer)
    db.close()

    // One flipped bit of a float's mantissa: still a plausible number, a different model under the same ETag.
    const flipped = Buffer.from(original)
    flipped[17]! ^= 0x01
    edit('UPDATE model SET item_embedding = ?', flipped)
    let launched = launch(args)
    expect((await launched.exited).code).toBe(1)
    expect(launched.stderr()).toMatch(
      /cannot start: store .*s\.sqlite: the model cannot be read \(model version 0 does not match the checksum it was written with .*restore the store from a backup\)/,
    )

    // A NaN in a store written before checksums (schema 6: the column is NULL) is caught as not finite.
    const nan = Buffer.from(original)
    nan.writeFloatLE(Number.NaN, 8)
    edit('UPDATE model SET item_embedding = ?, checksum = NULL', nan)
    launched = launch(args)
    expect((await launched.exited).code).toBe(1)
    expect(launched.stderr()).toMatch(/model\.item_embedding: value NaN at index 2 is not finite/)

    // The undamaged bytes of that old store start, serve the model they always did, and are sealed.
    edit('UPDATE model SET item_embedding = ?, checksum = NULL', original)
    server = await start(args)
    expect(new Uint8Array(await (await fetch(`${server.url}/v1/model`)).arrayBuffer())).toEqual(served)
    expect(await stop(server, 'SIGTERM')).toEqual({ code: 0, signal: null })
    const sealed = new Database(store, { readonly: true })
    expect(sealed.prepare('SELECT checksum FROM model').pluck().get()).toMatch(/^[0-9a-f]{64}$/)
    sealed.close()
  })

  it('refuses a zero-length store file without --init like a missing one; --init takes it as a first start', async () => {
    const store = inDir('s.sqlite')
    writeFileSync(store, '')
    const launched = launch(['--port', '0', '--store', store])
    expect((await launched.exited).code).toBe(1)
    expect(launched.stderr()).toMatch(
      /cannot start: store .*s\.sqlite is an empty file \(0 bytes\), not a store\. .*pass --init/,
    )
    expect(statSync(store).size).toBe(0)
    const server = await start(['--port', '0', '--store', store, '--init'])
    expect(parseRoundInfo(await getJson(`${server.url}/v1/round`)).round).toBe(0)
  })

  it('says a store it may not write is not writable, not that it is unreadable', async (context) => {
    // File permissions do not bind root: the aggregator runs as nobody here, as a service user would.
    if (process.getuid?.() !== 0) context.skip()
    const store = inDir('s.sqlite')
    const server = await start(['--port', '0', '--store', store, '--init'])
    expect(await stop(server, 'SIGTERM')).toEqual({ code: 0, signal: null })
    // Readable by everyone, writable by its owner (root) only.
    chmodSync(dirname(store), 0o755)
    chmodSync(store, 0o644)
    const launched = launch(['--port', '0', '--store', store], {}, { uid: 65534, gid: 65534 })
    expect((await launched.exited).code).toBe(1)
    expect(launched.stderr()).toMatch(
      /cannot start: store .*s\.sqlite is not writable \(EACCES on its file .*give the user it runs as write access/,
    )
    expect(launched.stderr()).not.toMatch(/not a readable SQLite database/)
  })

  it('refuses a missing --store without --init, says what to do, and creates nothing', async () => {
    const store = inDir('gone', 's.sqlite')
    const launched = launch(['--port', '0', '--store', store])
    expect((await launched.exited).code).toBe(1)
    expect(launched.stderr()).toMatch(/cannot start: store .*s\.sqlite does not exist\. .*pass --init/)
    expect(existsSync(inDir('gone'))).toBe(false)
  })

  it('with --init creates the store once and says so; later starts open it', async () => {
    const store = inDir('s.sqlite')
    let server = await start(['--port', '0', '--store', store, '--init', '--dim', '8'])
    await expect.poll(server.stderr).toMatch(/created a fresh store at .*s\.sqlite/)
    expect(await stop(server, 'SIGTERM')).toEqual({ code: 0, signal: null })
    server = await start(['--port', '0', '--store', store, '--init'])
    expect(server.stderr()).not.toMatch(/created a fresh store/)
    expect(parseRoundInfo(await getJson(`${server.url}/v1/round`)).dim).toBe(8)
  })

  it('binds the port before creating a store: a port clash leaves no fresh store behind', async () => {
    const first = await start(['--port', '0', '--store', inDir('a.sqlite'), '--init'])
    const port = new URL(first.url).port
    const store = inDir('b', 'b.sqlite')
    const launched = launch(['--port', port, '--store', store, '--init'])
    expect((await launched.exited).code).toBe(1)
    expect(launched.stderr()).toMatch(/cannot start: .*EADDRINUSE/)
    expect(existsSync(store)).toBe(false)
    // The first one never noticed.
    expect(parseRoundInfo(await getJson(`${first.url}/v1/round`)).round).toBe(0)
  })

  it('reads its options from FEDREC_* variables too', async () => {
    const server = await start(['--port', '0'], {
      FEDREC_STORE: inDir('env.sqlite'),
      FEDREC_INIT: '1',
      FEDREC_MIN_CLIENTS: '7',
      FEDREC_DIM: '8',
    })
    const info = parseRoundInfo(await getJson(`${server.url}/v1/round`))
    expect(info).toMatchObject({ dim: 8, numItems: 0 })
    expect(info.config.minClients).toBe(7)
  })
})
