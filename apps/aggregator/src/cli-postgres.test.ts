// The CLI on a PostgreSQL store (`--store postgres://…`, FEDREC_STORE): a real server, the CLI in its own
// process, and every line it prints read for the URL's password.

import { writeFileSync } from 'node:fs'
import { parseRoundInfo } from '@fedrec/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPostgres, type TestPostgres } from './store/postgres/test-postgres.ts'
import {
  getJson,
  launch,
  operatorStatus,
  start,
  stop,
  uploadAccepted,
  useScratchDir,
} from './test-process.ts'
import { catalogueOf } from './test-support.ts'

let server: TestPostgres
beforeAll(async () => {
  server = await startPostgres()
}, 120_000)
afterAll(() => server?.stop(), 60_000)
const inDir = useScratchDir('fedrec-cli-pg-')

const PASSWORD = 'pw-never-printed-7f3a'

/** A fresh empty database's URL with a password in it (trust authentication ignores it). */
async function urlWithPassword(): Promise<string> {
  const url = new URL(await server.database())
  url.password = PASSWORD
  return url.toString()
}

describe('fedrec-aggregator --store postgres://…', () => {
  it('creates the schema with --init, serves from it, and finds it again at the next start; the password is never printed', async () => {
    const url = await urlWithPassword()
    const catalogue = inDir('catalogue.json')
    writeFileSync(catalogue, JSON.stringify(catalogueOf(3)))
    const args = [
      '--catalogue',
      catalogue,
      '--port',
      '0',
      '--dim',
      '4',
      '--min-clients',
      '5',
      '--client-rate',
      '0',
      '--ip-rate',
      '0',
    ]
    // Every debug line too: the password must not reach a log either.
    const first = await start(['--store', url, '--init', ...args], { DEBUG: 'fedrec:*' })
    const info = parseRoundInfo(await getJson(`${first.url}/v1/round`))
    expect(info.round).toBe(0)
    await uploadAccepted(first.url, { round: 0, sampleCount: 1, dim: 4 })
    expect(await stop(first, 'SIGTERM')).toEqual({ code: 0, signal: null })
    expect(first.stderr()).toContain('created a fresh store at postgresql://fedrec@127.0.0.1:')
    expect(first.stderr()).not.toContain(PASSWORD)

    // Without --init, through FEDREC_STORE: the store is found, not created again, and the upload is there.
    const second = await start(args, { FEDREC_STORE: url, DEBUG: 'fedrec:*' })
    expect(await operatorStatus(second.url)).toMatchObject({ round: 0, participants: 1 })
    expect(await stop(second, 'SIGTERM')).toEqual({ code: 0, signal: null })
    expect(second.stderr()).not.toContain('created a fresh store')
    for (const line of `${first.stderr()}\n${second.stderr()}`.split('\n'))
      expect(line).not.toContain(PASSWORD)
  })

  it('refuses an empty database without --init, naming the URL without its password', async () => {
    const url = await urlWithPassword()
    const launched = launch(['--store', url, '--port', '0'])
    expect(await launched.exited).toEqual({ code: 1, signal: null })
    expect(launched.stderr()).toContain(
      'is an empty database (no tables). If this is the first start, pass --init',
    )
    expect(launched.stderr()).toContain('postgresql://fedrec@127.0.0.1:')
    expect(launched.stderr()).not.toContain(PASSWORD)
  })

  it('refuses an unreachable server with the URL without its password', async () => {
    const url = new URL(await urlWithPassword())
    url.port = '1'
    const launched = launch(['--store', url.toString(), '--port', '0', '--init'])
    expect(await launched.exited).toEqual({ code: 1, signal: null })
    expect(launched.stderr()).toContain('is not reachable')
    expect(launched.stderr()).not.toContain(PASSWORD)
  })

  it('refuses --secure-aggregation on a PostgreSQL store, saying why', async () => {
    const launched = launch([
      '--store',
      await urlWithPassword(),
      '--port',
      '0',
      '--init',
      '--secure-aggregation',
    ])
    expect(await launched.exited).toEqual({ code: 1, signal: null })
    expect(launched.stderr()).toContain('--secure-aggregation runs on a SQLite store only')
    expect(launched.stderr()).not.toContain(PASSWORD)
  })
})
