// The replica bench's printed report (replicas.ts prints it; `npm run bench` prints it from the JSON): the
// table, what an upload costs (CPU per update, database statements per upload), and the scaling this implies.

/** What replicas.ts measured (its --json output). */
export interface ReplicaResults {
  clients: number
  concurrency: number
  rows: number
  items: number
  dim: number
  cores: number
  loadAverageBefore: number[]
  loadAverageAfter: number[]
  /** Why the PostgreSQL rows are missing, when they are. */
  skipped: string | null
  configurations: Configuration[]
}

/** One checkpoint of one configuration. */
export interface Checkpoint {
  clients: number
  updatesPerSecond: number
  p50Ms: number
  p99Ms: number
  /** Resident memory of each aggregator process, MiB. */
  rssMiB: number[]
  aggregatorCpuMsPerUpdate: number
  postgresCpuMsPerUpdate: number | null
  clientCpuMsPerUpdate: number
  statementsPerUpdate: number | null
  transactionsPerUpdate: number | null
  /** The store's size on disk: the SQLite file and its WAL, or the PostgreSQL database (pg_database_size). */
  storeMiB: number
}

/** One configuration's run. */
export interface Configuration {
  store: 'SQLite' | 'PostgreSQL'
  replicas: number
  idleRssMiB: number[]
  checkpoints: Checkpoint[]
  failures: number
  failureSamples: string[]
  /** Statements per upload over the whole run, most frequent first (PostgreSQL with pg_stat_statements). */
  statements: { query: string; perUpdate: number; meanMs: number }[]
  /** Each replica's stderr when a request failed (its own account of the failure). */
  stderr: string[]
}

const f = (n: number | null, digits = 1): string => (n === null || Number.isNaN(n) ? '—' : n.toFixed(digits))

/** The report as markdown-ish text: a title line, the table, and notes. */
export function replicaReport(r: ReplicaResults): string {
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ')
  const out: string[] = [
    '',
    `5b. Aggregator replicas: ${r.clients.toLocaleString('en')} clients in one round per configuration, ${r.concurrency} requests in flight spread round-robin over the replicas, ` +
      `updates of ${r.rows} rows × (${r.dim}+1) floats into a ${r.items.toLocaleString('en')}-item model; ` +
      `${r.cores} cores shared by the client, the replicas and PostgreSQL; load average ${load(r.loadAverageBefore)} before, ${load(r.loadAverageAfter)} after ` +
      '(other work on the machine slows every number here)',
    '',
    '| store | replicas | updates/s | p50 ms | p99 ms | RSS MiB per replica, idle → at each checkpoint | CPU ms/update, all replicas together | PostgreSQL CPU ms/update | client CPU ms/update | statements/update | transactions/update | store MiB |',
    '|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const c of r.configurations) {
    const last = c.checkpoints.at(-1)
    if (!last) continue
    const rss = c.idleRssMiB
      .map((idle, i) => [idle, ...c.checkpoints.map((k) => k.rssMiB[i]!)].map((m) => f(m, 0)).join(' → '))
      .join('; ')
    out.push(
      `| ${c.store} | ${c.replicas} | ${f(last.updatesPerSecond, 0)} | ${f(last.p50Ms)} | ${f(last.p99Ms)} | ${rss} | ` +
        `${f(last.aggregatorCpuMsPerUpdate, 2)} | ${f(last.postgresCpuMsPerUpdate, 2)} | ${f(last.clientCpuMsPerUpdate, 2)} | ` +
        `${f(last.statementsPerUpdate, 2)} | ${f(last.transactionsPerUpdate, 2)} | ${f(last.storeMiB, 0)} |`,
    )
  }
  const checkpoints = r.configurations[0]?.checkpoints.map((k) => k.clients.toLocaleString('en')) ?? []
  out.push(
    '',
    `  RSS read idle and at ${checkpoints.join(' and ')} clients; CPU, statements and rates are over the whole run; store MiB: the SQLite file and its WAL, or pg_database_size of the replicas' database, at the end (the open round's payloads are most of it).`,
  )
  for (const c of r.configurations)
    if (c.failures > 0)
      out.push(
        `  ${c.store} × ${c.replicas}: ${c.failures} requests failed, e.g. ${c.failureSamples.join(' | ')}`,
        ...c.stderr.map((e, i) => `  replica ${i + 1} stderr (tail):\n${e.replace(/^/gm, '    ')}`),
      )
  if (r.configurations.every((c) => c.failures === 0)) out.push('  every request was answered 200')
  if (r.skipped) out.push(`  ${r.skipped}`)
  out.push(...scaling(r))
  return out.join('\n')
}

/** Where an upload's time goes, and what the measured costs imply on more cores. */
function scaling(r: ReplicaResults): string[] {
  const pg = r.configurations.filter((c) => c.store === 'PostgreSQL')
  const one = pg.find((c) => c.replicas === 1)?.checkpoints.at(-1)
  if (!one || one.postgresCpuMsPerUpdate === null) return []
  const out: string[] = ['']
  for (const c of pg) {
    const last = c.checkpoints.at(-1)!
    if (c.replicas > 1)
      out.push(
        `  ${c.replicas} replicas ÷ 1 replica: ${(last.updatesPerSecond / one.updatesPerSecond).toFixed(2)}× the updates/s`,
      )
  }
  const a = one.aggregatorCpuMsPerUpdate
  const p = one.postgresCpuMsPerUpdate
  const c = one.clientCpuMsPerUpdate
  const cpuBound = (1000 * r.cores) / (a + p + c)
  out.push(
    `  CPU per update with 1 replica: aggregator ${f(a, 2)} ms + PostgreSQL ${f(p, 2)} ms + this client ${f(c, 2)} ms = ${f(a + p + c, 2)} ms: ` +
      `${r.cores} cores can do at most ${f(cpuBound, 0)} updates/s if nothing else ran (measured ${f(one.updatesPerSecond, 0)}; the other sessions on this machine take the rest).`,
    `  On k cores for the replicas and the database (clients elsewhere), with cores split a:p = ${f(a / (a + p), 2)}:${f(p / (a + p), 2)} between replicas and PostgreSQL, ` +
      `the CPU ceiling is k × 1000 / (${f(a, 2)} + ${f(p, 2)}) = ${f(1000 / (a + p), 0)} updates/s per core: ` +
      `8 cores ≈ ${f((8 * 1000) / (a + p), 0)}/s, 32 cores ≈ ${f((32 * 1000) / (a + p), 0)}/s, if the database's share keeps scaling (one round row locked FOR SHARE by every upload does not serialise them; the close takes it FOR UPDATE once per round).`,
  )
  if (one.statementsPerUpdate !== null) {
    out.push(
      `  Database round trips per upload (pg_stat_statements, every statement is one round trip): ${f(one.statementsPerUpdate, 2)} statements in ${f(one.transactionsPerUpdate, 2)} transactions per update with 1 replica ` +
        '(the group commit writes the updates that arrive together in one transaction). The most frequent, per update, with mean execution time:',
      ...(pg.find((x) => x.replicas === 1)?.statements ?? [])
        .slice(0, 12)
        .map((s) => `    ${f(s.perUpdate, 2)} × ${f(s.meanMs, 3)} ms  ${s.query}`),
    )
  }
  return out
}
