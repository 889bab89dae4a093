// The real thing for tests: the CLI in its own process over real HTTP (not part of the public entry).
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newRandomId, parseStatus, type Status, UPDATE_MEDIA_TYPE } from '@fedrec/protocol'
import { afterEach, beforeEach, expect } from 'vitest'
import { clientOf } from './secagg/test-clients.ts'
import { makeUpdate } from './test-support.ts'

const here = dirname(fileURLToPath(import.meta.url))
const cliPath = join(here, 'cli.ts')
// `--import tsx` is resolved from the working directory: run from the repository root, where tsx is installed.
const repoRoot = resolve(here, '../../..')

/** A launched aggregator process. */
export interface Launched {
  child: ChildProcess
  /** Everything it wrote to stderr so far (logs go there). */
  stderr: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Resolves with the URL once it prints its "listening on" line; rejects if it exits first. */
  listening: Promise<string>
}

/** A listening aggregator process. */
export interface Running extends Omit<Launched, 'listening'> {
  url: string
}

const children = new Set<ChildProcess>()

/** SIGKILLs every process launched here that is still running (call it in afterEach/afterAll). */
export function killAll(): void {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  children.clear()
}

/**
 * A fresh temporary folder per test, removed after it (with every process launched here killed first, so
 * none still holds a store in it). Returns a path builder inside the current test's folder.
 * @example const inDir = useScratchDir('fedrec-cli-'); start(['--store', inDir('s.sqlite'), '--init'])
 */
export function useScratchDir(prefix: string): (...parts: string[]) => string {
  let dir = ''
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix))
  })
  afterEach(() => {
    killAll()
    rmSync(dir, { recursive: true, force: true })
  })
  return (...parts) => join(dir, ...parts)
}

/**
 * Spawns `tsx src/cli.ts ...args` with `DEBUG` off unless `env` sets it; as another user with `as` (tests of
 * file permissions, which do not hold for root).
 * @example const launched = launch(['--port', '0', '--store', path, '--init'])
 */
export function launch(
  args: string[],
  env: Record<string, string> = {},
  as?: { uid: number; gid: number },
): Launched {
  const child = spawn(process.execPath, ['--import', 'tsx', cliPath, ...args], {
    cwd: repoRoot,
    env: { ...process.env, DEBUG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(as ? { uid: as.uid, gid: as.gid } : {}),
  })
  children.add(child)
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
  // A test that expects a failed start awaits `exited`; this keeps the rejection from going unhandled.
  listening.catch(() => {})
  return { child, stderr: () => err, exited, listening }
}

/** The operator token {@link start} gives an aggregator whose arguments name none. */
export const TEST_OPERATOR_TOKEN = 'test-operator-token-0123456789'

/**
 * {@link launch}, then waits until it listens. Without `--operator-token` in `args` the process gets
 * {@link TEST_OPERATOR_TOKEN}, so that {@link operatorStatus} can read its live status.
 */
export async function start(args: string[], env: Record<string, string> = {}): Promise<Running> {
  const token = args.includes('--operator-token') ? [] : ['--operator-token', TEST_OPERATOR_TOKEN]
  const launched = launch([...args, ...token], env)
  return { ...launched, url: await launched.listening }
}

/** `GET /v1/status` with the operator token: the live view, the open round's progress included. */
export async function operatorStatus(url: string, token = TEST_OPERATOR_TOKEN): Promise<Status> {
  return parseStatus(await getJson(`${url}/v1/status`, { Authorization: `Bearer ${token}` }))
}

/** Sends `signal` and waits for the exit. */
export async function stop(running: Running, signal: NodeJS.Signals) {
  running.child.kill(signal)
  return running.exited
}

/** `POST /v1/updates` with a binary body, through the protocol client's one attempt: the answer as it came. */
export const postUpdate = (url: string, bytes: Uint8Array, headers: Record<string, string> = {}) =>
  clientOf(url).send('v1/updates', {
    method: 'POST',
    body: new Uint8Array(bytes),
    headers: { 'Content-Type': UPDATE_MEDIA_TYPE, ...headers },
  })

/**
 * Uploads one small update (item 1's bias) to the open round `round` from a fresh client and expects it
 * accepted; returns the client's id.
 */
export async function uploadAccepted(
  url: string,
  options: { round: number; sampleCount: number; dim: number },
): Promise<string> {
  const clientId = newRandomId()
  const { round, sampleCount, dim } = options
  const { bytes } = makeUpdate({ round, modelVersion: round, sampleCount, dim, bias: [[1, [0.1]]], clientId })
  const res = await postUpdate(url, bytes)
  expect(res.status, await res.clone().text()).toBe(200)
  return clientId
}

/** GET a JSON body, expecting 200. */
export async function getJson(url: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(url, { headers })
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`)
  return res.json()
}
