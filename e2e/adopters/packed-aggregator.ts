// The aggregator as an adopter runs it: installed from the packed tarball and started through its `bin`,
// with no tsx and no workspace sources.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { installAggregator, scratch } from './packed.ts'

/** An aggregator process started from the packed package's `bin`. */
export interface PackedAggregator {
  /** Base URL with a trailing slash. */
  url: string
  output: string[]
  process: ChildProcess
  stop(): Promise<void>
}

/**
 * Installs the packed @fedrec/aggregator in a scratch folder and runs its `bin` with plain Node (no tsx):
 * `fedrec-aggregator --store … --init …` on a free loopback port.
 * @example const agg = await startPackedAggregator(['--min-clients', '1']); … await agg.stop()
 */
export async function startPackedAggregator(args: string[]): Promise<PackedAggregator> {
  const dir = scratch('aggregator')
  const bin = installAggregator(dir)
  const child = spawn(
    process.execPath,
    [
      bin,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--store',
      join(dir, 'store/aggregator.sqlite'),
      '--init',
      ...args,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const output: string[] = []
  const url = await new Promise<string>((resolveUrl, reject) => {
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line)
        const match = /listening on (http:\/\/\S+)/.exec(line)
        if (match?.[1]) resolveUrl(`${match[1].replace(/\/$/, '')}/`)
      })
    }
    child.on('exit', (code) =>
      reject(new Error(`the packed aggregator exited with ${code}:\n${output.join('\n')}`)),
    )
  })
  return {
    url,
    output,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    },
  }
}
