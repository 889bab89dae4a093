// `npm run bench`: the speed figures of issue 7, each next to a baseline measured in the same run, printed as
// tables and written as JSON to bench-results/<time>.json and bench-results/latest.json. Asserts nothing.
// What each figure measures and how: docs/benchmarks.md.
//
//   npm run bench                                  # every figure, quick sizes (a few minutes)
//   npm run bench -- --only training,recommend     # some figures
//   npm run bench -- --full                        # the simulator's 40-round run (about half an hour more)
//   npm run bench -- --only replicas --replica-clients 10000   # the replica table with a 10,000-client round
//   npm run bench -- --help
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type ReplicaResults, replicaReport } from '../apps/aggregator/bench/replicas-report.ts'
import { type BrowserBenchResults, type BrowserSection, runBrowserBench } from '../e2e/bench/browser.ts'
import { type RepeatVisitResult, runRepeatVisitBench } from '../e2e/bench/repeat-visit.ts'
import {
  aggregatorTable,
  bandwidthTable,
  profileTable,
  recommendTable,
  repeatVisitTable,
  responsivenessTable,
  simulatorTable,
  startupTable,
  trainingTable,
} from '../e2e/bench/report.ts'
import type { BackendName } from '../e2e/kit/shopper.ts'

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..')

const SECTIONS = [
  'training',
  'responsiveness',
  'recommend',
  'bandwidth',
  'aggregator',
  'replicas',
  'simulator',
  'startup',
  'repeat-visit',
] as const
type Section = (typeof SECTIONS)[number]

const HELP = `npm run bench [-- options]

Figures (--only takes a comma-separated list; default: all):
  training        1. sync() per backend and history length, per phase; samples/s; webgl : cpu
  responsiveness  2. long tasks (> 50 ms) on the page's main thread during track(), sync(), recommend()
  recommend       3. recommend({ k: 10 }) latency per catalogue size, against plain-JS scoring
  bandwidth       4. bytes up and down per round against the dense model
  aggregator      5. updates accepted per second on one core, resident memory (apps/aggregator/bench/load.ts)
  replicas        5b. SQLite next to 1, 2, 3 aggregator replicas on PostgreSQL: updates/s, p99, memory per
                  replica, CPU and database statements per update (apps/aggregator/bench/replicas.ts); the
                  PostgreSQL rows are skipped, saying why, when Debian's PostgreSQL server is not installed
  simulator       6. shopper-rounds per second on MovieLens-100K and the accuracy table
  startup         7. createRecommender() to the first recommendation, cold and warm cache
  repeat-visit    8. the demo shop's widget on a repeat page view: the saved list, then the fresh one

Options:
  --only <list>             figures to run
  --full                    the simulator's full 40-round run (default: --sim-rounds rounds)
  --sim-rounds <n>          simulator rounds without --full (default 3)
  --data <dir>              the shared data sets (default ../shared/data, or FEDREC_DATA): MovieLens-100K,
                            Online Retail and the REES46 clickstream, each used when present
  --backends <list>         tfjs backends (default webgl,wasm,cpu)
  --catalogues <list>       catalogue sizes of figures 3, 4, 7 (default 1000,10000,50000)
  --training-catalogue <n>  catalogue size of figure 1 (default 10000)
  --histories <list>        history lengths of figure 1 (default 50,200,1000)
  --rounds <n>              measured syncs per shopper in figure 1 (default 3)
  --clients <n>             clients of the aggregator load run (default 10000)
  --replica-clients <n>     clients in the round of each replica configuration (default 1000; the issue's
                            figure is 10000, about four times as long as the rest of the aggregator figures)
  --port <n>                port of the benchmark page (default 4411, or E2E_BENCH_PORT)
  --out <dir>               where the JSON goes (default bench-results)`

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    full: { type: 'boolean', default: false },
    'sim-rounds': { type: 'string', default: '3' },
    data: {
      type: 'string',
      default: process.env.FEDREC_DATA ?? join(root, '../shared/data'),
    },
    backends: { type: 'string', default: 'webgl,wasm,cpu' },
    catalogues: { type: 'string', default: '1000,10000,50000' },
    'training-catalogue': { type: 'string', default: '10000' },
    histories: { type: 'string', default: '50,200,1000' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '10000' },
    'replica-clients': { type: 'string', default: '1000' },
    port: { type: 'string', default: process.env.E2E_BENCH_PORT ?? '4411' },
    out: { type: 'string', default: join(root, 'bench-results') },
    help: { type: 'boolean', default: false },
  },
})

if (args.help) {
  process.stdout.write(`${HELP}\n`)
  process.exit(0)
}

function fail(message: string): never {
  process.stderr.write(`npm run bench: ${message}\n(run with --help for the options)\n`)
  process.exit(2)
}

const positiveInts = (name: string, value: string): number[] =>
  value.split(',').map((v) => {
    const n = Number(v)
    if (!Number.isSafeInteger(n) || n < 1)
      fail(`--${name}: expected positive integers, got ${JSON.stringify(v)}`)
    return n
  })
const positiveInt = (name: string, value: string): number => positiveInts(name, value)[0]!

const only = args.only?.split(',').map((s) => s.trim()) ?? [...SECTIONS]
for (const s of only)
  if (!SECTIONS.includes(s as Section)) fail(`--only: unknown figure ${JSON.stringify(s)}`)
const sections = new Set(only as Section[])
const backends = args.backends.split(',').map((b) => b.trim())
for (const b of backends)
  if (!['webgl', 'wasm', 'cpu'].includes(b)) fail(`--backends: unknown backend ${JSON.stringify(b)}`)
const catalogues = positiveInts('catalogues', args.catalogues)
const simRounds = args.full ? 40 : positiveInt('sim-rounds', args['sim-rounds'])

/** The shared data sets figure 6 runs on, each when its file is there (they are never committed). */
const SIMULATOR_DATA = [
  { name: 'MovieLens-100K', format: 'movielens', file: 'ml-100k/u.data' },
  { name: 'Online Retail (8 weeks)', format: 'online-retail', file: 'online-retail/online-retail.csv' },
  { name: 'REES46 clickstream', format: 'generic', file: 'rees46-sample/generic.csv' },
] as const

const log = (line: string): void => {
  process.stderr.write(`· ${line}\n`)
}
const print = (line = ''): void => {
  process.stdout.write(`${line}\n`)
}

/** Runs a Node script of this repo (TypeScript through tsx); rejects with its output when it fails. */
function runScript(script: string, scriptArgs: string[]): Promise<void> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, script), ...scriptArgs], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      output += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      output += d
    })
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? done() : reject(new Error(`${script} exited with ${code}:\n${output.slice(-4000)}`)),
    )
  })
}

const started = new Date()
const scratch = mkdtempSync(join(tmpdir(), 'fedrec-bench-run-'))
const results: Record<string, unknown> = {
  startedAt: started.toISOString(),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
    loadAverage: loadavg(),
    node: process.version,
  },
  options: { sections: [...sections], backends, catalogues, simulatorRounds: simRounds },
  skipped: {} as Record<string, string>,
}
const skipped = results.skipped as Record<string, string>

try {
  // ---- figures 1, 2, 3, 4, 7: real Chromium ------------------------------------------------------------
  const browserSections = new Set<BrowserSection>()
  if (sections.has('training') || sections.has('responsiveness')) browserSections.add('training')
  if (sections.has('recommend') || sections.has('responsiveness')) browserSections.add('recommend')
  if (sections.has('bandwidth')) browserSections.add('bandwidth')
  if (sections.has('startup')) browserSections.add('startup')
  let browser: BrowserBenchResults | undefined
  if (browserSections.size > 0) {
    browser = await runBrowserBench({
      sections: browserSections,
      backends: backends as BackendName[],
      catalogues,
      trainingCatalogue: positiveInt('training-catalogue', args['training-catalogue']),
      histories: positiveInts('histories', args.histories),
      bandwidthHistories: [50, 200],
      recommendHistory: 200,
      rounds: positiveInt('rounds', args.rounds),
      recommendRepeats: 20,
      port: positiveInt('port', args.port),
      log,
    })
    results.browser = browser
  }

  // ---- figure 5: the aggregator under load ---------------------------------------------------------------
  let aggregator: unknown
  if (sections.has('aggregator')) {
    log(`aggregator load: ${args.clients} clients, server on one core`)
    const file = join(scratch, 'load.json')
    await runScript('apps/aggregator/bench/load.ts', [
      '--one-core',
      '--clients',
      args.clients,
      '--json',
      file,
    ])
    aggregator = JSON.parse(readFileSync(file, 'utf8'))
    results.aggregator = aggregator
  }

  // ---- figure 5b: aggregator replicas on PostgreSQL next to SQLite -----------------------------------------
  let replicas: ReplicaResults | undefined
  if (sections.has('replicas')) {
    const clients = String(positiveInt('replica-clients', args['replica-clients']))
    log(`aggregator replicas: ${clients} clients, SQLite and 1, 2, 3 replicas on PostgreSQL`)
    const file = join(scratch, 'replicas.json')
    await runScript('apps/aggregator/bench/replicas.ts', ['--clients', clients, '--json', file])
    replicas = JSON.parse(readFileSync(file, 'utf8')) as ReplicaResults
    results.replicas = replicas
    if (replicas.skipped) skipped['replicas: PostgreSQL rows'] = replicas.skipped
  }

  // ---- figure 8: a repeat page view of the demo shop -----------------------------------------------------
  let repeatVisit: RepeatVisitResult | undefined
  if (sections.has('repeat-visit')) {
    repeatVisit = await runRepeatVisitBench({ visits: 5, log })
    results.repeatVisit = repeatVisit
  }

  // ---- figure 6: the simulator on every shared data set ----------------------------------------------------
  const simulator: { name: string; json: unknown }[] = []
  if (sections.has('simulator')) {
    for (const set of SIMULATOR_DATA) {
      const path = join(args.data, set.file)
      if (!existsSync(path)) {
        skipped[`simulator: ${set.name}`] =
          `no file at ${path} (a fresh clone has no data: pass --data DIR or set FEDREC_DATA)`
        continue
      }
      log(`simulator: ${set.name}, ${simRounds} rounds${args.full ? ' (--full)' : ''}`)
      const file = join(scratch, `simulator-${set.format}.json`)
      const simArgs = ['--dataset', set.format, '--path', path, '--rounds', String(simRounds)]
      await runScript('apps/simulator/src/cli.ts', [...simArgs, '--quiet', '--out', file])
      const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
      simulator.push({ name: set.name, json })
      // The per-round records and settings stay in the simulator's own output; the bench keeps the summary.
      results[`simulator-${set.format}`] = {
        rounds: simRounds,
        dataset: json.dataset,
        federated: { ...(json.federated as object), rounds: undefined },
        centralized: { ...(json.centralized as object), epochs: undefined },
        ...Object.fromEntries(
          [
            'random',
            'popularity',
            'recentPopularity',
            'cooccurrence',
            'ratios',
            'targets',
            'warnings',
            'timing',
          ].map((k) => [k, json[k]]),
        ),
      }
    }
  }

  // ---- tables ------------------------------------------------------------------------------------------------
  const finished = new Date()
  results.finishedAt = finished.toISOString()
  results.durationSeconds = (finished.getTime() - started.getTime()) / 1000
  const loadAtStart = (results.machine as { loadAverage: number[] }).loadAverage
  print(
    `fedrec benchmark, ${started.toISOString()} (${cpus().length} cores; load average at start ${loadAtStart.map((l) => l.toFixed(1)).join(' ')})`,
  )
  if (browser) print(`Chromium ${browser.chromium}`)
  if (sections.has('training') && browser) {
    print(trainingTable(browser.training))
    print(profileTable(browser.profiles))
  }
  if (sections.has('responsiveness') && browser) print(responsivenessTable(browser))
  if (sections.has('recommend') && browser) print(recommendTable(browser.recommend))
  if (sections.has('bandwidth') && browser) print(bandwidthTable(browser.bandwidth))
  if (aggregator) print(aggregatorTable(aggregator))
  if (replicas) print(replicaReport(replicas))
  for (const { name, json } of simulator) print(simulatorTable(json, simRounds, name))
  if (sections.has('startup') && browser) print(startupTable(browser.startup))
  if (repeatVisit) print(repeatVisitTable(repeatVisit))
  for (const [section, why] of Object.entries(skipped)) print(`\n${section}: skipped — ${why}`)

  mkdirSync(args.out, { recursive: true })
  const stamp = started.toISOString().replace(/[:.]/g, '-')
  const json = `${JSON.stringify(results, null, 2)}\n`
  writeFileSync(join(args.out, `${stamp}.json`), json)
  writeFileSync(join(args.out, 'latest.json'), json)
  print(`\nJSON: ${join(args.out, `${stamp}.json`)} (and latest.json); ${results.durationSeconds} s`)
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
