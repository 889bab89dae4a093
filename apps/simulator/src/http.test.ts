import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseStatus } from '@fedrec/protocol'
import { afterAll, describe, expect, it } from 'vitest'
import { tasteGroupsCsv } from './test-data.ts'

const TOKEN = 'simulator-test-operator-token-0123'

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..')
const dir = mkdtempSync(join(tmpdir(), 'fedrec-sim-http-'))
const children: ChildProcess[] = []
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
  rmSync(dir, { recursive: true, force: true })
})

/** Runs a TypeScript entry point with tsx; resolves with its exit code and output. */
function run(
  script: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, script), ...args], { cwd: root })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise((ok) => child.on('exit', (code) => ok({ code, stdout, stderr })))
}

/** Starts a real aggregator process on a free port, as e2e/aggregator.ts does. */
function startAggregator(args: string[]): Promise<string> {
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
      ...args,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  children.push(child)
  const output: string[] = []
  return new Promise((ok, fail) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line)
        const match = /listening on (http:\/\/\S+)/.exec(line)
        if (match?.[1]) ok(`${match[1].replace(/\/$/, '')}/`)
      })
    }
    child.on('exit', (code) => fail(new Error(`aggregator exited with ${code}:\n${output.join('\n')}`)))
  })
}

describe('simulate --endpoint (a real aggregator process over HTTP)', () => {
  it('writes the catalogue, trains through the wire protocol and reports federated evaluations', async () => {
    const data = join(dir, 'tastes.csv')
    writeFileSync(data, tasteGroupsCsv({ users: 24, groups: 3, itemsPerGroup: 10, perUser: 7, seed: 4 }))
    const catalogue = join(dir, 'catalogue.json')
    const written = await run('apps/simulator/src/cli.ts', [
      '--dataset',
      'generic',
      '--path',
      data,
      '--write-catalogue',
      catalogue,
    ])
    expect(written.code, written.stderr).toBe(0)
    const itemIds: unknown = JSON.parse(readFileSync(catalogue, 'utf8'))
    expect(itemIds).toHaveLength(30)

    const url = await startAggregator([
      '--store',
      join(dir, 'agg.sqlite'),
      '--init',
      '--catalogue',
      catalogue,
      '--min-clients',
      '6',
      '--dim',
      '8',
      '--seed',
      '1',
      '--round-deadline',
      '600',
      '--ip-rate',
      '0',
      '--client-rate',
      '0',
      '--operator-token',
      TOKEN,
    ])
    const out = join(dir, 'r.json')
    const sim = await run('apps/simulator/src/cli.ts', [
      '--dataset',
      'generic',
      '--path',
      data,
      '--endpoint',
      url,
      '--rounds',
      '3',
      '--central-epochs',
      '2',
      '--dim',
      '8',
      '--quiet',
      '--out',
      out,
    ])
    expect(sim.code, sim.stderr).toBe(0)
    expect(sim.stderr).not.toMatch(/warning/)
    const results = JSON.parse(readFileSync(out, 'utf8'))
    expect(results.settings.mode).toBe('http')
    // The aggregator's quorum decides the round size; every round closed and published the next version.
    expect(
      results.federated.rounds.map((r: { participants: number; modelVersion: number }) => [
        r.participants,
        r.modelVersion,
      ]),
    ).toEqual([
      [6, 1],
      [6, 2],
      [6, 3],
    ])
    // The operator's view: the public one shows evaluations only once a version no longer takes reports.
    const status = parseStatus(
      await (
        await fetch(new URL('v1/status', url), { headers: { Authorization: `Bearer ${TOKEN}` } })
      ).json(),
    )
    expect(status.round).toBe(3)
    expect(status.history.map((h) => [h.participants, h.closedBy])).toEqual([
      [6, 'quorum'],
      [6, 'quorum'],
      [6, 'quorum'],
    ])
    // Each participant reported its own sums on the model it helped make (nobody else may); the server's mean
    // is theirs, and the simulator's own mean covers every shopper.
    for (const [i, r] of results.federated.rounds.entries()) {
      const summary = status.evaluations.find((e) => e.modelVersion === i + 1)
      expect(r.reported.users).toBe(6)
      expect(summary?.users).toBe(6)
      expect(summary?.hr10).toBeCloseTo(r.reported.hr10, 9)
      expect(summary?.ndcg10).toBeCloseTo(r.reported.ndcg10, 9)
    }
    expect(readFileSync(out.replace(/\.json$/, '.svg'), 'utf8')).toContain('<svg')
  }, 120_000)
})
