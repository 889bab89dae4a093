// Errors are always logged — without DEBUG — as one JSON line each, and the line holds no client data.
import { writeFileSync } from 'node:fs'
import { newRandomId } from '@fedrec/protocol'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { postUpdate, start, stop, useScratchDir } from './test-process.ts'
import { catalogueOf, makeUpdate } from './test-support.ts'

const inDir = useScratchDir('fedrec-error-log-')

describe('the error log', () => {
  it('has one structured line for every 500, with no DEBUG set and no client id, key or payload in it', async () => {
    const catalogue = inDir('catalogue.json')
    writeFileSync(catalogue, JSON.stringify(catalogueOf(10)))
    const store = inDir('s.sqlite')
    const args = ['--port', '0', '--store', store, '--catalogue', catalogue, '--dim', '4']
    let server = await start([...args, '--init'])
    expect(await stop(server, 'SIGTERM')).toEqual({ code: 0, signal: null })
    // A real SQLite failure on every write of an update, as a failing disk would give.
    const db = new Database(store)
    db.exec(`CREATE TRIGGER test_updates_fail BEFORE INSERT ON updates
      BEGIN SELECT RAISE(ABORT, 'test: the update cannot be written'); END`)
    db.close()
    server = await start(args)

    const clientIds = [newRandomId(), newRandomId()]
    const updates = clientIds.map((clientId, i) =>
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: 4, clientId, bias: [[i, [0.123456]]] }),
    )
    for (const { bytes } of updates) {
      const res = await postUpdate(server.url, bytes)
      expect(res.status).toBe(500)
      expect(await res.json()).toEqual({
        error: { code: 'internal', message: 'internal error; see the aggregator log' },
      })
    }
    // The start-up lines (listening, token, dashboard) are plain text; error records are JSON. The process's
    // stderr reaches this one through a pipe, which may lag behind the HTTP answers: wait for the lines.
    const errorLines = () =>
      server
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('fedrec aggregator: {'))
    await expect.poll(() => errorLines().length).toBe(4)
    const lines = errorLines()
    const records = lines.map(
      (l) => JSON.parse(l.replace(/^fedrec aggregator: /, '')) as Record<string, unknown>,
    )
    // Each failed request: the write that failed, then the answer it got.
    for (const pair of [records.slice(0, 2), records.slice(2, 4)]) {
      expect(pair[0]).toMatchObject({
        level: 'error',
        event: 'updates_write_failed',
        round: 0,
        updates: 1,
        error: 'SqliteError: test: the update cannot be written',
      })
      expect(pair[1]).toMatchObject({
        level: 'error',
        event: 'request_failed',
        method: 'POST',
        path: '/v1/updates',
        status: 500,
        error: 'SqliteError: test: the update cannot be written',
      })
      expect(Date.parse(String(pair[1]!.time))).not.toBeNaN()
    }
    const log = server.stderr()
    for (const { update, bytes } of updates) {
      expect(log.toLowerCase()).not.toContain(update.clientId)
      expect(log.toLowerCase()).not.toContain(update.idempotencyKey)
      expect(log).not.toContain(Buffer.from(bytes.subarray(20, 36)).toString('hex'))
    }
    expect(log).not.toContain('0.123456')
  })
})
