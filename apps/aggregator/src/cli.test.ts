// The real thing: the CLI in its own process, over real HTTP, killed without warning and restarted.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  decodeModel,
  parseErrorBody,
  parseRoundInfo,
  parseStatus,
  parseUpdateAck,
  UPDATE_MEDIA_TYPE,
} from '@fedrec/protocol'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { randomUpdate } from './test-support.ts'

const here = dirname(fileURLToPath(import.meta.url))
const cliPath = join(here, 'cli.ts')
// `--import tsx` is resolved from the working directory: run from the repository root, where tsx is installed.
const repoRoot = resolve(here, '../../..')

interface Running {
  child: ChildProcess
  url: string
  stderr: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const children: ChildProcess[] = []
let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fedrec-cli-'))
})
afterEach(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  children.length = 0
  rmSync(dir, { recursive: true, force: true })
})

function launch(
  args: string[],
  env: Record<string, string> = {},
): Omit<Running, 'url'> & { listening: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', cliPath, ...args], {
    cwd: repoRoot,
    env: { ...process.env, DEBUG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let out = ''
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const match = /^fedrec aggregator listening on (http:\/\/\S+)$/m.exec(out)
      if (match?.[1]) resolve(match[1])
    })
    exited.then(({ code, signal }) =>
      reject(new Error(`aggregator exited (code ${code}, signal ${signal}) before listening:\n${err}`)),
    )
  })
  return { child, stderr: () => err, exited, listening }
}

async function start(args: string[], env: Record<string, string> = {}): Promise<Running> {
  const launched = launch(args, env)
  return { ...launched, url: await launched.listening }
}

async function kill(running: Running, signal: NodeJS.Signals) {
  running.child.kill(signal)
  return running.exited
}

const postUpdate = (url: string, bytes: Uint8Array) =>
  fetch(`${url}/v1/updates`, { method: 'POST', body: bytes, headers: { 'Content-Type': UPDATE_MEDIA_TYPE } })

const getJson = async (url: string) => {
  const res = await fetch(url)
  expect(res.status).toBe(200)
  return res.json() as Promise<unknown>
}

describe('fedrec-aggregator CLI', () => {
  it('counts acknowledged updates exactly once across a SIGKILL and completes the round', async () => {
    const NUM_ITEMS = 12
    const DIM = 4
    const catalogue = join(dir, 'catalogue.json')
    writeFileSync(
      catalogue,
      JSON.stringify(Array.from({ length: NUM_ITEMS }, (_, i) => ({ id: `sku-${i}`, name: `Item ${i}` }))),
    )
    const args = ['--port', '0', '--store', join(dir, 'nested', 's.sqlite'), '--catalogue', catalogue]
    args.push('--dim', String(DIM), '--seed', '3', '--min-clients', '3', '--round-deadline', '600')

    let server = await start(args)
    const info = parseRoundInfo(await getJson(`${server.url}/v1/round`))
    expect(info).toMatchObject({ round: 0, modelVersion: 0, numItems: NUM_ITEMS, dim: DIM })
    const updates = [1, 2, 3].map((seed) =>
      randomUpdate(0, 0, { numItems: NUM_ITEMS, dim: DIM, seed, sampleCount: 10 * seed }),
    )

    for (const [i, u] of updates.slice(0, 2).entries()) {
      const res = await postUpdate(server.url, u.bytes)
      expect(res.status).toBe(200)
      expect(parseUpdateAck(await res.json())).toMatchObject({ participants: i + 1, duplicate: false })
    }
    // No goodbye: whatever was acknowledged must already be on disk.
    expect(await kill(server, 'SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' })

    server = await start(args)
    expect(parseStatus(await getJson(`${server.url}/v1/status`))).toMatchObject({
      round: 0,
      participants: 2,
      samples: 30,
    })
    const retry = await postUpdate(server.url, updates[1]!.bytes)
    expect(parseUpdateAck(await retry.json())).toMatchObject({ duplicate: true, participants: 2 })
    const third = await postUpdate(server.url, updates[2]!.bytes)
    expect(parseUpdateAck(await third.json())).toMatchObject({ duplicate: false, participants: 3, round: 0 })

    const status = parseStatus(await getJson(`${server.url}/v1/status`))
    expect(status).toMatchObject({ round: 1, modelVersion: 1, participants: 0 })
    expect(status.history).toEqual([
      expect.objectContaining({ round: 0, participants: 3, samples: 60, closedBy: 'quorum' }),
    ])
    const model = await fetch(`${server.url}/v1/model`)
    expect(model.headers.get('etag')).toBe('"v1"')
    expect(decodeModel(new Uint8Array(await model.arrayBuffer())).itemIds).toHaveLength(NUM_ITEMS)
    const late = await postUpdate(
      server.url,
      randomUpdate(0, 0, { numItems: NUM_ITEMS, dim: DIM, seed: 9 }).bytes,
    )
    expect(late.status).toBe(409)
    expect(parseErrorBody(await late.json()).error.code).toBe('round_closed')

    // A clean stop on SIGTERM.
    expect(await kill(server, 'SIGTERM')).toEqual({ code: 0, signal: null })
  })

  it('refuses a corrupt store file with a clear message and a non-zero exit', async () => {
    const store = join(dir, 's.sqlite')
    writeFileSync(store, Buffer.from(Array.from({ length: 16384 }, (_, i) => (i * 7919 + 13) % 256)))
    const launched = launch(['--port', '0', '--store', store])
    await expect(launched.listening).rejects.toThrow(/exited/)
    const { code } = await launched.exited
    expect(code).toBe(1)
    expect(launched.stderr()).toMatch(/cannot start: store .*s\.sqlite is not a readable SQLite database/)
  })

  it('reads its options from FEDREC_* variables too', async () => {
    const server = await start(['--port', '0'], {
      FEDREC_STORE: join(dir, 'env.sqlite'),
      FEDREC_MIN_CLIENTS: '7',
      FEDREC_DIM: '8',
    })
    const info = parseRoundInfo(await getJson(`${server.url}/v1/round`))
    expect(info).toMatchObject({ dim: 8, numItems: 0 })
    expect(info.config.minClients).toBe(7)
  })
})
