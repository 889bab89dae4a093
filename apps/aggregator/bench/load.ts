// Load benchmark (prints numbers, asserts nothing): many concurrent simulated clients post real-sized
// binary updates to a real aggregator process, all in one round (quorum out of reach), and we watch
// updates accepted per second, latency, and the server's resident memory at 1,000 and 10,000 clients.
//
//   npm run bench:load -w @fedrec/aggregator                 # both cores
//   npm run bench:load -w @fedrec/aggregator -- --one-core   # server pinned to core 0 (taskset), client on 1
//   options: --clients 10000 --concurrency 64 --rows 128 --items 5000 --dim 32 --json results.json
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { newRandomId, parseRoundInfo, parseStatus, UPDATE_MEDIA_TYPE } from '@fedrec/protocol'
import {
  makeBodies,
  makeUpdate as makeShapedUpdate,
  pct,
  cpuMs as processCpuMs,
  rssMiB as processRssMiB,
  runConcurrent,
  startAggregator,
} from './load-kit.ts'

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '64' },
    rows: { type: 'string', default: '128' },
    items: { type: 'string', default: '5000' },
    dim: { type: 'string', default: '32' },
    'one-core': { type: 'boolean', default: false },
    // The same figures as JSON, for `npm run bench` (scripts/bench.ts).
    json: { type: 'string' },
  },
})
const CLIENTS = Number(args.clients)
const CONCURRENCY = Number(args.concurrency)
const ROWS = Number(args.rows)
const ITEMS = Number(args.items)
const DIM = Number(args.dim)
// RSS is read at each of these (and at the end): flat across them means memory does not grow with clients.
const CHECKPOINTS = [1_000, 2_500, 5_000, 10_000, 20_000, 50_000, CLIENTS].filter(
  (n, i, a) => n <= CLIENTS && a.indexOf(n) === i,
)

const dir = mkdtempSync(join(tmpdir(), 'fedrec-bench-'))
const store = join(dir, 'bench.sqlite')
const catalogue = join(dir, 'catalogue.json')
writeFileSync(catalogue, JSON.stringify(Array.from({ length: ITEMS }, (_, i) => `sku-${i}`)))

// ---- the server -------------------------------------------------------------------------------------------
const serverArgs = ['--port', '0', '--store', store, '--init', '--catalogue', catalogue, '--dim', String(DIM)]
serverArgs.push('--min-clients', String(CLIENTS + 1), '--round-deadline', '86400')
serverArgs.push('--client-rate', '0', '--ip-rate', '0', '--max-update-norm', '1000')
// The open round's participants are in the operator's view of /v1/status only.
const operatorToken = newRandomId()
serverArgs.push('--operator-token', operatorToken)
const oneCore = args['one-core'] && cpus().length > 1
const server = await startAggregator(serverArgs, oneCore ? { taskset: '0' } : {})
if (oneCore) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' })
const url = server.url
const serverPid = server.pid
const rssMiB = (): number => processRssMiB(serverPid)
const cpuMs = (): number => processCpuMs(serverPid)

// ---- the clients ------------------------------------------------------------------------------------------
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
const { hostname: host, port } = new URL(url)

function post(path: string, body: Uint8Array | undefined): Promise<number> {
  return new Promise((resolvePost, reject) => {
    const req = request(
      {
        host: host.replace(/^\[|\]$/g, ''),
        port,
        path,
        method: body ? 'POST' : 'GET',
        agent,
        headers: body ? { 'Content-Type': UPDATE_MEDIA_TYPE, 'Content-Length': body.byteLength } : {},
      },
      (res) => {
        res.resume()
        res.on('end', () => resolvePost(res.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

const info = parseRoundInfo(await (await fetch(`${url}/v1/round`)).json())

/** A shopper's update: ROWS touched rows (positives and sampled negatives), embedding and bias deltas. */
const makeUpdate = (seed: number): Uint8Array =>
  makeShapedUpdate(info, seed, { rows: ROWS, items: ITEMS, dim: DIM })

/** Runs `total` requests with CONCURRENCY in flight; returns sorted latencies (ms) and the wall time. */
const run = (total: number, send: (i: number) => Promise<number>) => runConcurrent(total, CONCURRENCY, send)

/** The benchmark's report goes to stdout (the server's output stays in its pipes). */
const print = (line: string): void => {
  process.stdout.write(`${line}\n`)
}
const fmt = (n: number, digits = 1): string => n.toFixed(digits)

// ---- go ---------------------------------------------------------------------------------------------------
const sample = makeUpdate(1)
const loadBefore = loadavg()
print(
  `fedrec aggregator load benchmark: ${CLIENTS} clients in one round, ${CONCURRENCY} in flight, ` +
    `updates of ${ROWS} rows × (${DIM}+1) floats = ${sample.byteLength} bytes, model ${ITEMS} items × ${DIM}; ` +
    `server ${oneCore ? 'pinned to 1 core (taskset -c 0), client on the other' : `on ${cpus().length} cores shared with the client`}; ` +
    `store on ${execFileSync('stat', ['-f', '-c', '%T', dir]).toString().trim()} (${dir})` +
    `; load average before the run ${loadBefore
      .map((l) => l.toFixed(1))
      .join(' ')} (other work on the machine slows every number here)`,
)
const idle = rssMiB()
print(`server RSS idle: ${fmt(idle)} MiB`)

// Baseline in the same run: the same client loop against /healthz, the HTTP stack's ceiling here.
const healthz = await run(5_000, () => post('/healthz', undefined))
const healthzRate = 5_000 / healthz.seconds

// Bodies are made ahead in batches so the client's own CPU time is not inside the latencies.
const BATCH = 1_000
let peak = idle
const sampler = setInterval(() => {
  peak = Math.max(peak, rssMiB())
}, 50)
const rows: string[] = []
const checkpoints: Record<string, number>[] = []
let sent = 0
let allLatencies: number[] = []
let totalSeconds = 0
let failures = 0
for (const checkpoint of CHECKPOINTS) {
  const latencies: number[] = []
  let seconds = 0
  const cpuBefore = cpuMs()
  const sentBefore = sent
  while (sent < checkpoint) {
    const n = Math.min(BATCH, checkpoint - sent)
    const bodies = await makeBodies(n, (i) => makeUpdate(sent + i + 1))
    const r = await run(n, (i) => post('/v1/updates', bodies[i]))
    latencies.push(...r.latencies)
    seconds += r.seconds
    failures += r.failures
    sent += n
  }
  const cpuPerUpdate = (cpuMs() - cpuBefore) / (sent - sentBefore)
  allLatencies = allLatencies.concat(latencies)
  totalSeconds += seconds
  const sorted = Float64Array.from(allLatencies).sort()
  const status = parseStatus(
    await (await fetch(`${url}/v1/status`, { headers: { Authorization: `Bearer ${operatorToken}` } })).json(),
  )
  checkpoints.push({
    clients: checkpoint,
    participants: status.participants,
    updatesPerSecond: allLatencies.length / totalSeconds,
    p50Ms: pct(sorted, 0.5),
    p99Ms: pct(sorted, 0.99),
    rssMiB: rssMiB(),
    peakRssMiB: peak,
    storeMiB: statSync(store).size / 2 ** 20,
    serverCpuMsPerUpdate: cpuPerUpdate,
  })
  rows.push(
    `| ${checkpoint.toLocaleString('en')} | ${status.participants.toLocaleString('en')} | ${fmt(allLatencies.length / totalSeconds, 0)} | ` +
      `${fmt(pct(sorted, 0.5))} | ${fmt(pct(sorted, 0.99))} | ${fmt(rssMiB())} | ${fmt(peak)} | ${fmt(statSync(store).size / 2 ** 20)} | ${fmt(cpuPerUpdate, 2)} |`,
  )
}
clearInterval(sampler)

print(
  `\nbaseline: GET /healthz with the same client loop: ${fmt(healthzRate, 0)} req/s, p50 ${fmt(pct(healthz.latencies, 0.5))} ms`,
)
print(
  '\n| clients in the round | participants (server) | updates accepted/s | p50 ms | p99 ms | RSS MiB | peak RSS MiB | store MiB | server CPU ms/update |',
)
print('|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for (const row of rows) print(row)
const rate = allLatencies.length / totalSeconds
print(
  `\nupdates/s ÷ healthz req/s = ${fmt(rate / healthzRate, 3)}; non-200 answers: ${failures}; RSS idle ${fmt(idle)} MiB`,
)

if (args.json) {
  const results = {
    clients: CLIENTS,
    concurrency: CONCURRENCY,
    rows: ROWS,
    items: ITEMS,
    dim: DIM,
    oneCore,
    updateBytes: sample.byteLength,
    loadAverageBefore: loadBefore,
    idleRssMiB: idle,
    healthzPerSecond: healthzRate,
    updatesPerSecond: rate,
    updatesOverHealthz: rate / healthzRate,
    failures,
    checkpoints,
  }
  writeFileSync(args.json, `${JSON.stringify(results, null, 2)}\n`)
}

await server.stop()
agent.destroy()
rmSync(dir, { recursive: true, force: true })
