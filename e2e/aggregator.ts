// The aggregator process of the end-to-end tests, run from this repository's sources with tsx; the QA kit
// builds on it.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..')

export interface RunningAggregator {
  /** Base URL with a trailing slash, e.g. http://127.0.0.1:41234/ */
  url: string
  storePath: string
  process: ChildProcess
  /** Everything the process printed, for failure messages. */
  output: string[]
  stop(): Promise<void>
}

/**
 * Starts a real aggregator process on a free loopback port with a fresh store in a temporary folder.
 * @example const agg = await startAggregator(['--min-clients', '4']); … await agg.stop()
 */
export async function startAggregator(args: string[] = [], storeDir?: string): Promise<RunningAggregator> {
  const dir = storeDir ?? mkdtempSync(join(tmpdir(), 'fedrec-e2e-'))
  const storePath = join(dir, 'aggregator.sqlite')
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'apps/aggregator/src/cli.ts'),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--store',
      storePath,
      // Creates the store on the first start; a restart on the same storeDir opens it.
      '--init',
      ...args,
    ],
    // Round opening/closing logs (no client ids or payloads) land in `output`, for failure messages.
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { DEBUG: 'fedrec:aggregator:round', ...process.env },
    },
  )
  const output: string[] = []
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`aggregator did not start:\n${output.join('\n')}`)),
      30_000,
    )
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line)
        const match = /listening on (http:\/\/\S+)/.exec(line)
        if (match?.[1]) {
          clearTimeout(timer)
          resolveUrl(`${match[1].replace(/\/$/, '')}/`)
        }
      })
    }
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`aggregator exited with ${code}:\n${output.join('\n')}`))
    })
  })
  return {
    url,
    storePath,
    process: child,
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await exited
      }
      if (!storeDir) rmSync(dir, { recursive: true, force: true })
    },
  }
}
