// Replica benchmark (prints numbers, asserts nothing): the same upload load against one aggregator on SQLite
// and against 1, 2 and 3 aggregator processes (replicas) on one PostgreSQL server (Debian's, started in a
// temporary folder by startPostgres()). Real processes, real HTTP on loopback, the project's protocol client
// posting real encoded updates, request i going to replica i mod N (what a round-robin proxy does). All
// clients post into one round, its quorum out of reach. Measured per configuration: updates/s, p50/p99,
// resident memory of each aggregator process at 1,000 clients and at the end, CPU ms per update of the
// aggregator processes, of the whole PostgreSQL cluster (/proc) and of this client process, and the database
// statements (round trips) per upload from pg_stat_statements.
//
//   npx tsx apps/aggregator/bench/replicas.ts                     # 1,000 clients per configuration
//   npx tsx apps/aggregator/bench/replicas.ts --clients 10000     # the 10,000-client round
//   options: --replicas 1,2,3 --concurrency 64 --rows 128 --items 5000 --dim 32 --json results.json
//            --postgres-root /usr/lib/postgresql (its <version>/bin; none there: the PostgreSQL rows are skipped)
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createProtocolClient, type ProtocolClient } from '@fedrec/protocol'
import { startPostgres, type TestPostgres } from '../src/store/postgres/test-postgres.ts'
import {
  type Aggregator,
  cpuMs,
  makeBodies,
  makeUpdate,
  pct,
  rssMiB,
  runConcurrent,
  startAggregator,
  type UpdateShape,
} from './load-kit.ts'
import { type PostgresProbe, probePostgres, type Statement, statementsBetween } from './postgres-probe.ts'
import { type Configuration, replicaReport } from './replicas-report.ts'

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000' },
    replicas: { type: 'string', default: '1,2,3' },
    concurrency: { type: 'string', default: '64' },
    rows: { type: 'string', default: '128' },
    items: { type: 'string', default: '5000' },
    dim: { type: 'string', default: '32' },
    json: { type: 'string' },
    // Where the PostgreSQL versions' folders are (Debian's layout); the rows are skipped when none is there.
    'postgres-root': { type: 'string', default: '/usr/lib/postgresql' },
  },
})
const CLIENTS = Number(args.clients)
const CONCURRENCY = Number(args.concurrency)
const REPLICAS = args.replicas.split(',').map(Number)
const SHAPE: UpdateShape = { rows: Number(args.rows), items: Number(args.items), dim: Number(args.dim) }
for (const [name, n] of Object.entries({ CLIENTS, CONCURRENCY, ...SHAPE }))
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name.toLowerCase()}: expected a positive integer`)
if (REPLICAS.some((n) => !Number.isSafeInteger(n) || n < 1))
  throw new Error(`--replicas: expected positive integers, got ${args.replicas}`)
/** Memory is read at each checkpoint: flat RSS from the first to the last means it does not grow with clients. */
const CHECKPOINTS = [...[1_000, 5_000].filter((n) => n < CLIENTS), CLIENTS]
/** Bodies are encoded ahead in batches, so the client's encoding is not inside the latencies. */
const BATCH = 1_000

const dir = mkdtempSync(join(tmpdir(), 'fedrec-bench-replicas-'))
const catalogue = join(dir, 'catalogue.json')
writeFileSync(catalogue, JSON.stringify(Array.from({ length: SHAPE.items }, (_, i) => `sku-${i}`)))
const COMMON = ['--port', '0', '--catalogue', catalogue, '--dim', String(SHAPE.dim)]
COMMON.push('--min-clients', String(CLIENTS + 1), '--round-deadline', '86400')
COMMON.push('--client-rate', '0', '--ip-rate', '0', '--max-update-norm', '1000')

const log = (line: string): void => {
  process.stderr.write(`· ${line}\n`)
}

/** Runs the load against `aggregators` (request i to aggregator i mod N), reading `probe` when given. */
async function load(
  store: Configuration['store'],
  aggregators: Aggregator[],
  probe: PostgresProbe | null,
  storeBytes: () => Promise<number>,
): Promise<Configuration> {
  const clients: ProtocolClient[] = aggregators.map((a) =>
    createProtocolClient({ baseUrl: a.url, retry: { retries: 0, baseDelayMs: 1 } }),
  )
  const info = await clients[0]!.roundInfo()
  const config: Configuration = {
    store,
    replicas: aggregators.length,
    idleRssMiB: aggregators.map((a) => rssMiB(a.pid)),
    checkpoints: [],
    failures: 0,
    failureSamples: [],
    statements: [],
    stderr: [],
  }
  const startStatements = (await probe?.readStatements()) ?? []
  let sent = 0
  let latencies: number[] = []
  let seconds = 0
  // CPU and statements are counted from the start of the run: each checkpoint's figures are the run's so far.
  const aggregatorCpu = aggregators.reduce((t, a) => t + cpuMs(a.pid), 0)
  const postgresCpu = probe?.clusterCpuMs() ?? 0
  const clientCpu = process.cpuUsage()
  for (const checkpoint of CHECKPOINTS) {
    while (sent < checkpoint) {
      const n = Math.min(BATCH, checkpoint - sent)
      const bodies = await makeBodies(n, (i) => makeUpdate(info, sent + i + 1, SHAPE))
      const first = sent
      const r = await runConcurrent(n, CONCURRENCY, async (i) => {
        await clients[(first + i) % clients.length]!.postUpdate(bodies[i]!)
        return 200
      })
      latencies = latencies.concat(Array.from(r.latencies))
      seconds += r.seconds
      config.failures += r.failures
      config.failureSamples.push(...r.failureSamples.slice(0, 5 - config.failureSamples.length))
      sent += n
    }
    const count = sent
    const client = process.cpuUsage(clientCpu)
    const between = statementsBetween(startStatements, (await probe?.readStatements()) ?? [])
    const calls = between.reduce((t, s) => t + s.calls, 0)
    const begins = between.filter((s) => /^\s*BEGIN/i.test(s.query)).reduce((t, s) => t + s.calls, 0)
    const sorted = Float64Array.from(latencies).sort()
    config.checkpoints.push({
      clients: checkpoint,
      updatesPerSecond: latencies.length / seconds,
      p50Ms: pct(sorted, 0.5),
      p99Ms: pct(sorted, 0.99),
      rssMiB: aggregators.map((a) => rssMiB(a.pid)),
      aggregatorCpuMsPerUpdate: (aggregators.reduce((t, a) => t + cpuMs(a.pid), 0) - aggregatorCpu) / count,
      postgresCpuMsPerUpdate: probe ? (probe.clusterCpuMs() - postgresCpu) / count : null,
      clientCpuMsPerUpdate: (client.user + client.system) / 1000 / count,
      statementsPerUpdate: probe?.statements.counted ? calls / count : null,
      transactionsPerUpdate: probe?.statements.counted ? begins / count : null,
      storeMiB: (await storeBytes()) / 2 ** 20,
    })
    log(
      `${store} × ${aggregators.length}: ${checkpoint} clients, ${(latencies.length / seconds).toFixed(0)} updates/s`,
    )
  }
  if (probe?.statements.counted) {
    const whole: Statement[] = statementsBetween(startStatements, await probe.readStatements())
    config.statements = whole.map((s) => ({
      query: s.query.replace(/\s+/g, ' ').slice(0, 100),
      perUpdate: s.calls / sent,
      meanMs: s.totalMs / s.calls,
    }))
  }
  if (config.failures > 0) config.stderr = aggregators.map((a) => a.stderr().slice(-3000))
  return config
}

const loadBefore = loadavg()
log(
  `replica bench: ${CLIENTS} clients per configuration, ${CONCURRENCY} in flight, replicas ${REPLICAS.join(',')}`,
)
const configurations: Configuration[] = []
let skipped: string | null = null
let server: TestPostgres | undefined
try {
  // ---- SQLite, one process --------------------------------------------------------------------------------
  const sqlite = await startAggregator([...COMMON, '--store', join(dir, 'bench.sqlite'), '--init'])
  try {
    const file = join(dir, 'bench.sqlite')
    const size = (path: string): number => (existsSync(path) ? statSync(path).size : 0)
    configurations.push(await load('SQLite', [sqlite], null, async () => size(file) + size(`${file}-wal`)))
  } finally {
    await sqlite.stop()
  }

  // ---- PostgreSQL, N replicas on one server -----------------------------------------------------------------
  try {
    server = await startPostgres({ root: args['postgres-root'] })
  } catch (err) {
    skipped = `PostgreSQL rows skipped: ${(err as Error).message.split('\n')[0]}`
    log(skipped)
  }
  if (server) {
    const probe = await probePostgres(server, server.url)
    try {
      for (const n of REPLICAS) {
        const url = await server.database()
        const replicas: Aggregator[] = []
        try {
          // The first creates the store; the others open it.
          replicas.push(await startAggregator([...COMMON, '--store', url, '--init']))
          for (let i = 1; i < n; i++) replicas.push(await startAggregator([...COMMON, '--store', url]))
          configurations.push(await load('PostgreSQL', replicas, probe, () => probe.databaseBytes(url)))
        } finally {
          await Promise.all(replicas.map((r) => r.stop()))
        }
      }
    } finally {
      await probe.close()
    }
  }
} finally {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
}

const results = {
  clients: CLIENTS,
  concurrency: CONCURRENCY,
  ...SHAPE,
  cores: cpus().length,
  loadAverageBefore: loadBefore,
  loadAverageAfter: loadavg(),
  skipped,
  configurations,
}
process.stdout.write(`${replicaReport(results)}\n`)
if (args.json) writeFileSync(args.json, `${JSON.stringify(results, null, 2)}\n`)
