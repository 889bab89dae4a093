// The aggregator side of a QA scenario, built on e2e/aggregator.ts: what a scenario does with it beyond
// starting it.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ProductDescription } from '@fedrec/core/client'
import { parseStatus, type Status } from '@fedrec/protocol'
import { type RunningAggregator, startAggregator } from '../aggregator.ts'

/**
 * One entry of a catalogue a scenario writes: an item id, or an id with the product features the aggregator
 * hashes into the rows of its item-feature table (docs/aggregator.md, "Item features").
 * @example { id: 'sku-kitchen-001', category: 'Kitchen.Mugs', brand: 'Acme', price: 12 }
 */
export type QaCatalogueEntry = string | ({ id: string } & ProductDescription)

/** How to start the aggregator of a scenario; `args` are its command-line flags (see its `--help`). */
export interface QaAggregatorOptions {
  /**
   * Catalogue (`--catalogue`): a file, or entries written to a file in the aggregator's folder; default: the
   * storefront's 240 items.
   */
  catalogue?: string | readonly QaCatalogueEntry[]
  /** Quorum (`--min-clients`). */
  minClients: number
  /** Seconds (`--round-deadline`); default 600, so only quorum closes a round unless a scenario wants otherwise. */
  roundDeadline?: number
  /** Seed of the initial weights (`--seed`), for reproducible runs. */
  seed?: number
  /** Any other flags, e.g. ['--mu', '0.01']; an `--operator-token` here is the one `status()` sends. */
  args?: string[]
}

/**
 * A real aggregator process on a free loopback port with a fresh store, plus what QA scenarios do with it:
 * read its status, wait for a model version, restart it on the same store and port.
 */
export interface QaAggregator {
  /** Base URL with a trailing slash; stays the same across `restart()`. */
  readonly url: string
  readonly storePath: string
  /** The operator token the process was started with (`--operator-token`: given in `args`, or a random one). */
  readonly operatorToken: string
  /**
   * The operator's `GET /v1/status` (sent with the operator token), checked against the protocol's schema:
   * the open round's live figures included, which an anonymous caller does not get.
   */
  status(): Promise<Status>
  /** Polls the status until the published model version is at least `version`; returns that status. */
  waitForModelVersion(version: number, options?: { timeoutMs?: number }): Promise<Status>
  /**
   * Waits until the open round's deadline is at least `ms` away (a deadline that passes with no update is
   * extended by the aggregator), so a scenario that needs the deadline to close a round starts its round
   * early in a deadline window rather than just before it fires.
   */
  waitForDeadlineWindow(ms: number): Promise<Status>
  /** Stops the process (SIGTERM, as an operator would) and starts a new one on the same store and port. */
  restart(): Promise<void>
  /** Stops the process; kills it with SIGKILL when `hard` (a crash: nothing gets to close cleanly). */
  stop(options?: { hard?: boolean }): Promise<void>
  /** Starts it again after `stop()`, on the same store and port. */
  start(): Promise<void>
  /** Stops the process and deletes its store. */
  dispose(): Promise<void>
  /** Everything the processes printed, for failure messages. */
  readonly output: string[]
}

/**
 * Starts an aggregator for a scenario.
 * @example const agg = await openAggregator({ minClients: 4, roundDeadline: 5, seed: 7 })
 */
export async function openAggregator(options: QaAggregatorOptions): Promise<QaAggregator> {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-qa-'))
  const given = options.args?.indexOf('--operator-token') ?? -1
  const operatorToken =
    (given === -1 ? undefined : options.args?.[given + 1]) ?? randomBytes(18).toString('base64url')
  let catalogue = options.catalogue
  if (catalogue !== undefined && typeof catalogue !== 'string') {
    const file = join(dir, 'catalogue.json')
    writeFileSync(file, JSON.stringify(catalogue))
    catalogue = file
  }
  const flags = [
    '--min-clients',
    String(options.minClients),
    '--round-deadline',
    String(options.roundDeadline ?? 600),
    ...(catalogue ? ['--catalogue', catalogue] : []),
    ...(options.seed === undefined ? [] : ['--seed', String(options.seed)]),
    ...(options.args ?? []),
    ...(given === -1 ? ['--operator-token', operatorToken] : []),
  ]
  const past: string[] = []
  let running: RunningAggregator | null = await startAggregator(flags, dir)
  const url = running.url
  const port = new URL(url).port

  const status = async (): Promise<Status> => {
    const res = await fetch(new URL('v1/status', url), {
      cache: 'no-store',
      headers: { Authorization: `Bearer ${operatorToken}` },
    })
    if (!res.ok) throw new Error(`GET /v1/status answered ${res.status}`)
    return parseStatus(await res.json())
  }

  const aggregator: QaAggregator = {
    url,
    storePath: running.storePath,
    operatorToken,
    get output() {
      return [...past, ...(running?.output ?? [])]
    },
    status,
    async waitForModelVersion(version, { timeoutMs = 60_000 } = {}) {
      const until = Date.now() + timeoutMs
      for (;;) {
        const s = await status()
        if (s.modelVersion >= version) return s
        if (Date.now() > until)
          throw new Error(
            `model version stayed at ${s.modelVersion}, waited for ${version} for ${timeoutMs} ms`,
          )
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    async waitForDeadlineWindow(ms) {
      const until = Date.now() + 10 * 60_000
      for (;;) {
        const s = await status()
        if (Date.parse(s.config.deadline) - Date.now() >= ms) return s
        if (Date.now() > until)
          throw new Error(`no deadline window of ${ms} ms came (deadline ${s.config.deadline})`)
        await new Promise((r) => setTimeout(r, 200))
      }
    },
    async stop({ hard = false } = {}) {
      if (!running) return
      const r = running
      running = null
      if (hard && r.process.exitCode === null && r.process.signalCode === null) {
        const exited = new Promise((done) => r.process.once('exit', done))
        r.process.kill('SIGKILL')
        await exited
      }
      await r.stop() // after a SIGKILL this only tidies up
      past.push(...r.output)
    },
    async start() {
      if (running) return
      // The same port: clients keep their endpoint. `--port` given twice: the last one wins.
      running = await startAggregator([...flags, '--port', port], dir)
    },
    async restart() {
      await aggregator.stop()
      await aggregator.start()
    },
    async dispose() {
      await aggregator.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return aggregator
}
