// What the replica bench reads of the PostgreSQL server it runs on: the CPU time of the whole cluster (every
// process of it, from /proc) and the statements it executed (pg_stat_statements), so that the bench can say
// per update how much database CPU and how many database round trips an upload costs.
import { readdirSync } from 'node:fs'
import pg from 'pg'
import type { TestPostgres } from '../src/store/postgres/test-postgres.ts'
import { cpuMs, parentPid } from './load-kit.ts'

/** One normalised statement of pg_stat_statements: its text, times executed, and execution time in ms. */
export interface Statement {
  query: string
  calls: number
  totalMs: number
}

/** A probe of one test server. */
export interface PostgresProbe {
  /** The postmaster's pid. */
  readonly postmaster: number
  /** CPU ms used so far by the postmaster and every process it forked (live ones, and exited ones it reaped). */
  clusterCpuMs(): number
  /** Whether statements are counted (pg_stat_statements could be loaded); if not, why. */
  readonly statements: { counted: true } | { counted: false; why: string }
  /** The statements executed so far in the given database URL's database (empty when not counted). */
  readStatements(): Promise<Statement[]>
  /** The size on disk of the database of `url` (pg_database_size: tables, indexes, TOAST), in bytes. */
  databaseBytes(url: string): Promise<number>
  close(): Promise<void>
}

/**
 * Loads pg_stat_statements into `server` (ALTER SYSTEM + restart: it must be preloaded) and finds the
 * postmaster. `url` is a database of the server (the extension is created there; statements are read from any).
 */
export async function probePostgres(server: TestPostgres, url: string): Promise<PostgresProbe> {
  let statements: PostgresProbe['statements'] = { counted: true }
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    await admin.query(`ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`)
  } finally {
    await admin.end()
  }
  await server.restart()
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements')
  } catch (err) {
    statements = { counted: false, why: `pg_stat_statements unavailable (${(err as Error).message})` }
  }
  const backend = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid)
  const postmaster = parentPid(backend)
  return {
    postmaster,
    statements,
    clusterCpuMs() {
      let total = cpuMs(postmaster, { reapedChildren: true })
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue
        try {
          if (parentPid(Number(entry)) === postmaster) total += cpuMs(Number(entry))
        } catch {
          // the process ended between the listing and the read: its time is in the postmaster's reaped time
        }
      }
      return total
    },
    async readStatements() {
      if (!statements.counted) return []
      const { rows } = await client.query(
        `SELECT query, sum(calls)::float8 AS calls, sum(total_exec_time) AS total_ms FROM pg_stat_statements
         WHERE query NOT ILIKE '%pg_stat_statements%' AND query NOT ILIKE '%pg_backend_pid%'
           AND query NOT ILIKE '%pg_database_size%' GROUP BY query`,
      )
      return rows.map((r: { query: string; calls: number; total_ms: number }) => ({
        query: r.query,
        calls: r.calls,
        totalMs: r.total_ms,
      }))
    },
    async databaseBytes(of) {
      const name = decodeURIComponent(new URL(of).pathname.slice(1))
      const { rows } = await client.query('SELECT pg_database_size($1)::float8 AS bytes', [name])
      return Number(rows[0].bytes)
    },
    close: () => client.end(),
  }
}

/** `after` minus `before`, statement by statement (those executed in between). */
export function statementsBetween(before: Statement[], after: Statement[]): Statement[] {
  const was = new Map(before.map((s) => [s.query, s]))
  return after
    .map((s) => ({
      query: s.query,
      calls: s.calls - (was.get(s.query)?.calls ?? 0),
      totalMs: s.totalMs - (was.get(s.query)?.totalMs ?? 0),
    }))
    .filter((s) => s.calls > 0)
    .sort((a, b) => b.calls - a.calls)
}
