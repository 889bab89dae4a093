#!/usr/bin/env tsx
// `npm run qa -- --shoppers 12 --rounds 5 --scenario dropouts`: a scenario run of the QA kit in real browsers,
// with Playwright's HTML report and a JSON summary. See docs/qa.md.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command, InvalidArgumentError, Option } from 'commander'
import type { RunSummary } from '../kit/run.ts'

const e2eDir = fileURLToPath(new URL('..', import.meta.url))

/** Scenario name → Playwright tag of its tests. */
export const SCENARIOS = {
  rounds: 'N shoppers, R rounds, quorum of everyone: per-round HR@10, bytes, times',
  loop: 'the demo shop driven through its UI: six shoppers, three tastes, four rounds, privacy checks',
  dropouts: 'a shopper closes the tab mid-training each round; the deadline closes the round',
  straggler: 'an upload held until the round closed: 409 round_closed, then counted in the next round',
  offline: 'offline during sync: retries with back-off, gives up with a network error, nothing lost',
  restart: 'the aggregator restarts (SIGTERM) or crashes (SIGKILL) mid-round: acked updates survive',
  webgl: 'no WebGL at all, and a WebGL context lost mid-training: WASM completes the round',
  storage: 'IndexedDB out of quota, and an upgrade blocked by another tab: clear errors, no data lost',
  'two-tabs': 'two tabs of the same shopper: one trains at a time, one upload',
} as const
type Scenario = keyof typeof SCENARIOS

const positive = (value: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a positive integer, got ${value}`)
  return n
}

const scenarioList = (value: string): Scenario[] => {
  if (value === 'all') return Object.keys(SCENARIOS) as Scenario[]
  const names = value.split(',').map((s) => s.trim())
  for (const name of names)
    if (!(name in SCENARIOS))
      throw new InvalidArgumentError(
        `unknown scenario ${JSON.stringify(name)}; one of ${Object.keys(SCENARIOS).join(', ')}, all`,
      )
  return names as Scenario[]
}

interface CliOptions {
  scenario: Scenario[]
  shoppers?: number
  rounds?: number
  seed?: number
  data?: string
  workers: number
  out: string
  port: number
  timeout?: number
}

function createCommand(): Command {
  return new Command('npm run qa --')
    .description(
      `Runs QA scenarios of the fedrec kit: many shoppers in real Chromium contexts against a real aggregator.\nScenarios:\n${Object.entries(
        SCENARIOS,
      )
        .map(([name, what]) => `  ${name.padEnd(10)} ${what}`)
        .join('\n')}`,
    )
    .addOption(
      new Option('--scenario <names>', 'comma-separated scenarios, or all')
        .default(['rounds'], 'rounds')
        .argParser(scenarioList),
    )
    .addOption(new Option('--shoppers <n>', "shoppers (default: each scenario's own)").argParser(positive))
    .addOption(new Option('--rounds <n>', "rounds (default: each scenario's own)").argParser(positive))
    .addOption(
      new Option('--seed <n>', 'seed of histories and initial weights (default 7)').argParser(positive),
    )
    .addOption(
      new Option(
        '--data <file>',
        'shoppers from a data set: CSV user,item,type,timestamp or MovieLens u.data',
      ),
    )
    .addOption(
      new Option('--workers <n>', 'Playwright workers (browsers in parallel)')
        .default(Math.max(1, Math.floor(availableParallelism() / 2)), 'half the cores')
        .argParser(positive),
    )
    .addOption(
      new Option('--out <dir>', 'report folder').default(
        join('playwright-report', 'qa', new Date().toISOString().replace(/[:.]/g, '-')),
      ),
    )
    .addOption(
      new Option('--port <n>', 'port of the storefront preview server').default(4317).argParser(positive),
    )
    .addOption(
      new Option('--timeout <seconds>', 'per-test timeout (default: grows with shoppers × rounds)').argParser(
        positive,
      ),
    )
}

async function main(): Promise<number> {
  const options = createCommand().parse(process.argv).opts<CliOptions>()
  const out = resolve(options.out)
  const summaries = join(out, 'summaries')
  // A reused --out folder must not mix an earlier run's scenario summaries into this run's summary.json.
  rmSync(summaries, { recursive: true, force: true })
  mkdirSync(summaries, { recursive: true })
  if (options.data && !existsSync(options.data)) throw new Error(`--data ${options.data}: no such file`)
  const work = (options.shoppers ?? 6) * (options.rounds ?? 4)
  const timeout = (options.timeout ?? Math.max(300, 60 + work * 10)) * 1000
  const grep = options.scenario.map((s) => (s === 'loop' ? 'federated-loop' : `@${s}`)).join('|')
  const args = [
    'playwright',
    'test',
    '--grep',
    grep,
    '--workers',
    String(options.workers),
    '--timeout',
    String(timeout),
    '--reporter',
    'list,html,json',
    '--output',
    join(out, 'test-results'),
  ]
  const env = {
    ...process.env,
    E2E_STOREFRONT_PORT: String(options.port),
    FEDREC_QA_SUMMARY_DIR: summaries,
    FEDREC_QA_SEED: String(options.seed ?? 7),
    PLAYWRIGHT_HTML_OUTPUT_DIR: join(out, 'html'),
    PLAYWRIGHT_HTML_OPEN: 'never',
    PLAYWRIGHT_JSON_OUTPUT_FILE: join(out, 'playwright.json'),
    ...(options.shoppers ? { FEDREC_QA_SHOPPERS: String(options.shoppers) } : {}),
    ...(options.rounds ? { FEDREC_QA_ROUNDS: String(options.rounds) } : {}),
    ...(options.data ? { FEDREC_QA_DATA: resolve(options.data) } : {}),
  }
  process.stdout.write(`qa: ${options.scenario.join(', ')} → ${out}\n  npx ${args.join(' ')}\n`)
  const started = Date.now()
  const code = await new Promise<number>((done) => {
    const child = spawn('npx', args, { cwd: e2eDir, env, stdio: 'inherit' })
    child.on('exit', (c, signal) => done(c ?? (signal ? 1 : 0)))
    // npx missing or not executable: 'exit' never comes, so say so instead of waiting for ever.
    child.on('error', (err) => {
      process.stderr.write(`qa: could not start Playwright: ${err.message}\n`)
      done(2)
    })
  })
  const scenarios: RunSummary[] = readdirSync(summaries)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(summaries, f), 'utf8')) as RunSummary)
  const summary = {
    command: process.argv.slice(2),
    scenarios: options.scenario,
    shoppers: options.shoppers ?? null,
    rounds: options.rounds ?? null,
    seed: options.seed ?? 7,
    data: options.data ?? null,
    workers: options.workers,
    wallMs: Date.now() - started,
    passed: code === 0,
    runs: scenarios,
  }
  writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2))
  for (const run of scenarios) {
    process.stdout.write(`\n${run.scenario} (${run.shoppers} shoppers)\n`)
    if (run.rounds.length) {
      process.stdout.write(
        '  round  version  participants  closedBy   HR@10  bytes up  bytes down  sync ms (mean/max)\n',
      )
      for (const r of run.rounds) {
        const hr = r.hr10 === null ? '  -  ' : r.hr10.toFixed(2)
        process.stdout.write(
          `  ${String(r.round).padStart(5)}  ${String(r.modelVersion).padStart(7)}  ${String(r.participants ?? '-').padStart(12)}  ${String(r.closedBy ?? '-').padEnd(9)}  ${hr.padStart(5)}  ${String(r.bytesUp).padStart(8)}  ${String(r.bytesDown).padStart(10)}  ${r.syncMsMean ?? '-'}/${r.syncMsMax ?? '-'}\n`,
        )
      }
    }
    const backends = Object.values(run.backends)
    if (backends.length)
      process.stdout.write(
        `  backends: ${[...new Set(backends)].map((b) => `${b} × ${backends.filter((x) => x === b).length}`).join(', ')}\n`,
      )
    if (Object.keys(run.measured).length)
      process.stdout.write(`  measured: ${JSON.stringify(run.measured)}\n`)
  }
  process.stdout.write(
    `\nqa: ${code === 0 ? 'passed' : 'FAILED'} in ${Math.round(summary.wallMs / 1000)} s\n  summary  ${join(out, 'summary.json')}\n  report   ${join(out, 'html', 'index.html')}\n`,
  )
  return code
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`qa: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(2)
  },
)
