// The pieces the aggregator's load benches share (load.ts: one process on SQLite; replicas.ts: replicas on
// PostgreSQL): real encoded updates, a fixed number of requests in flight, percentiles, and what /proc says
// about a process (resident memory, CPU time), plus launching the real CLI and reading its one stdout line.
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodeUpdate, ITEM_BIAS, ITEM_EMBEDDING, type ModelUpdate, newRandomId } from '@fedrec/protocol'

const here = dirname(fileURLToPath(import.meta.url))
/** The repository's root: `--import tsx` resolves from the working directory, and tsx is installed there. */
export const repoRoot = resolve(here, '../../..')

/** The shape of the bench's updates: rows touched per update, and the model's items and width. */
export interface UpdateShape {
  rows: number
  items: number
  dim: number
}

/**
 * A shopper's update, encoded as the browser sends it: `rows` touched rows (positives and sampled negatives),
 * embedding and bias deltas, a fresh client id and idempotency key; the values follow from `seed`.
 */
export function makeUpdate(
  info: { round: number; modelVersion: number },
  seed: number,
  { rows, items, dim }: UpdateShape,
): Uint8Array<ArrayBuffer> {
  let s = seed
  const next = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    return s / 2 ** 32
  }
  const touched = new Set<number>()
  while (touched.size < rows) touched.add(Math.floor(next() * items))
  const rowIds = Uint32Array.from([...touched].sort((a, b) => a - b))
  const update: ModelUpdate = {
    round: info.round,
    modelVersion: info.modelVersion,
    clientId: newRandomId(),
    idempotencyKey: newRandomId(),
    sampleCount: 1 + Math.floor(next() * 200),
    tensors: [
      {
        name: ITEM_EMBEDDING,
        cols: dim,
        rowIds,
        values: Float32Array.from({ length: rows * dim }, () => (next() - 0.5) * 0.02),
      },
      {
        name: ITEM_BIAS,
        cols: 1,
        rowIds,
        values: Float32Array.from({ length: rows }, () => (next() - 0.5) * 0.02),
      },
    ],
  }
  return encodeUpdate(update) as Uint8Array<ArrayBuffer>
}

/**
 * Makes `n` request bodies in slices of 50, letting the event loop run between slices and for 20 ms after
 * the last. A keep-alive socket the server closed while the client made bodies is then dropped by the
 * client before it sends: a synchronous pause longer than the aggregator's keep-alive timeout (Node's
 * 5 s) would otherwise send the next requests on sockets already closed — `socket hang up` with node:http,
 * `other side closed` with fetch (seen on this loaded machine, where 1,000 bodies took seconds).
 */
export async function makeBodies<T>(n: number, make: (i: number) => T): Promise<T[]> {
  const bodies: T[] = []
  for (let i = 0; i < n; i++) {
    bodies.push(make(i))
    if (i % 50 === 49) await sleep(1)
  }
  await sleep(20)
  return bodies
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms))

/** What {@link runConcurrent} measured: latencies sorted (ms), wall time, and the failed requests. */
export interface RunResult {
  latencies: Float64Array
  seconds: number
  failures: number
  /** The first few failures' messages (a status or a thrown error), for the report. */
  failureSamples: string[]
}

/**
 * Runs `total` requests with `concurrency` in flight. `send` resolves with the answer's status (200 counts
 * as success) or throws (counted as a failure with its message).
 */
export async function runConcurrent(
  total: number,
  concurrency: number,
  send: (i: number) => Promise<number>,
): Promise<RunResult> {
  const latencies = new Float64Array(total)
  let nextIndex = 0
  let failures = 0
  const failureSamples: string[] = []
  const fail = (message: string): void => {
    failures += 1
    if (failureSamples.length < 5) failureSamples.push(message)
  }
  const started = performance.now()
  const worker = async (): Promise<void> => {
    while (nextIndex < total) {
      const i = nextIndex++
      const t0 = performance.now()
      try {
        const status = await send(i)
        if (status !== 200) fail(`HTTP ${status}`)
      } catch (err) {
        fail(describeError(err))
      }
      latencies[i] = performance.now() - t0
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker))
  return {
    latencies: latencies.sort(),
    seconds: (performance.now() - started) / 1000,
    failures,
    failureSamples,
  }
}

/** An error with its causes (fetch hides the socket's error in `cause`). */
function describeError(err: unknown): string {
  const parts: string[] = []
  for (let e: unknown = err; e !== undefined && parts.length < 4; e = (e as { cause?: unknown }).cause)
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e))
  return parts.join(' ← ')
}

/** The `p` quantile (0..1) of sorted values. */
export const pct = (sorted: ArrayLike<number>, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN

/** Resident memory of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024
}

/** The fields of /proc/<pid>/stat after the command name (field 3, the state, is index 0). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(') ') + 2).split(' ')
}

/** Clock ticks per second of /proc's times (USER_HZ: 100 on Linux, whatever the kernel's HZ). */
const TICK_MS = 10

/** CPU time (user + system) a process has used, in ms; with `reapedChildren`, also its waited-for children's. */
export function cpuMs(pid: number, { reapedChildren = false } = {}): number {
  const f = statFields(pid)
  const own = Number(f[11]) + Number(f[12])
  const children = reapedChildren ? Number(f[13]) + Number(f[14]) : 0
  return (own + children) * TICK_MS
}

/** The parent pid of a process. */
export function parentPid(pid: number): number {
  return Number(statFields(pid)[1])
}

/** A launched aggregator (the real CLI in its own process). */
export interface Aggregator {
  url: string
  pid: number
  child: ChildProcess
  /** What it wrote to stderr so far. */
  stderr(): string
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>
}

/**
 * Starts `tsx apps/aggregator/src/cli.ts ...args` (pinned to the cores in `taskset` when given) and resolves
 * once it prints its listening line; rejects with its stderr if it exits first.
 */
export async function startAggregator(
  args: string[],
  { taskset }: { taskset?: string } = {},
): Promise<Aggregator> {
  const node = [process.execPath, '--import', 'tsx', join(repoRoot, 'apps/aggregator/src/cli.ts'), ...args]
  const options = { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] }
  // taskset execs node: the pid stays the same.
  const child = taskset
    ? spawn('taskset', ['-c', taskset, ...node], options)
    : spawn(node[0]!, node.slice(1), options)
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
  })
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  // A bench that throws must not leave its server running (three did, from a failed load.ts run).
  const orphan = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  process.once('exit', orphan)
  child.once('exit', () => process.off('exit', orphan))
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m?.[1]) resolveUrl(m[1])
    })
    child.once('exit', (code) => reject(new Error(`aggregator exited (${code}):\n${stderr}`)))
  })
  return {
    url,
    pid: child.pid!,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
