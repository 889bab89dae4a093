/** A throwaway PostgreSQL server for tests: Debian's server binaries, a fresh cluster in a temporary folder. */
import { execFile, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'

const run = promisify(execFile)

/** Debian installs each major version's server binaries here (package `postgresql`). */
const DEBIAN_ROOT = '/usr/lib/postgresql'

/** A running test server; every method waits until the server is in the state it names. */
export interface TestPostgres {
  /** URL of a database created at start (user `fedrec`, no password: trust, on loopback only). */
  readonly url: string
  /** The folder of its data and log, removed by `stop()` (or once the process that started it is gone). */
  readonly dir: string
  /** Creates a fresh empty database and returns its URL: cheaper than a cluster per test. */
  database(): Promise<string>
  /**
   * Creates a fresh empty schema in the database of `url` and returns a URL whose connections use it
   * (`search_path`): to a store, as empty as a new database, and far cheaper to make.
   */
  schema(): Promise<string>
  /** Stops the server, keeping its data (connections are cut, as when a database server goes down). */
  shutdown(): Promise<void>
  /** Starts the server again after `shutdown()`. */
  start(): Promise<void>
  /** `pg_ctl restart`: every connection is cut, the data stays. */
  restart(): Promise<void>
  /** Stops the server and removes its folder. */
  stop(): Promise<void>
}

/**
 * Starts a PostgreSQL server in a fresh temporary folder, listening on a free TCP port of 127.0.0.1 only
 * (no unix socket). Run as root, the server runs as the `postgres` system user (initdb refuses root).
 * Durability settings are relaxed (`fsync = off`): a test cluster is thrown away, and a crash of the machine
 * is not what these tests are about.
 * `root` holds one folder per major version, each with a `bin` (Debian's layout); the newest is used.
 * @throws Error saying to install Debian's `postgresql` package when no server binaries are there
 * @example
 * const server = await startPostgres()
 * const store = await openPostgresStore(await server.database(), { create: true })
 * await server.stop()
 */
export async function startPostgres({ root = DEBIAN_ROOT }: { root?: string } = {}): Promise<TestPostgres> {
  const bin = serverBinaries(root)
  const owner = await serverUser()
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-pg-'))
  const data = join(dir, 'data')
  const logfile = join(dir, 'server.log')
  const as = async (tool: string, args: string[]): Promise<void> => {
    const file = owner ? 'runuser' : join(bin, tool)
    const argv = owner ? ['-u', owner.name, '--', join(bin, tool), ...args] : args
    try {
      await run(file, argv, { timeout: 120_000 })
    } catch (err) {
      const log = existsSync(logfile) ? readFileSync(logfile, 'utf8').slice(-2000) : '(no server log)'
      throw new Error(`${tool} ${args.join(' ')} failed: ${String(err)}\nserver log:\n${log}`, { cause: err })
    }
  }
  try {
    if (owner) chownSync(dir, owner.uid, owner.gid)
    await as('initdb', ['-D', data, '-U', 'fedrec', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'])
    const port = await freePort()
    appendFileSync(
      join(data, 'postgresql.conf'),
      `\nport = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nfsync = off\nfull_page_writes = off\n`,
    )
    const ctl = (action: string, ...extra: string[]) =>
      as('pg_ctl', ['-D', data, '-l', logfile, '-w', '-t', '60', ...extra, action])
    await ctl('start')
    const release = tieToProcess(
      dir,
      owner ? ['runuser', '-u', owner.name, '--'] : [],
      join(bin, 'pg_ctl'),
      data,
    )
    const base = `postgresql://fedrec@127.0.0.1:${port}`
    let created = 0
    const admin = async (database: string, statement: string): Promise<void> => {
      const client = new pg.Client({ connectionString: `${base}/${database}` })
      await client.connect()
      try {
        await client.query(statement)
      } finally {
        await client.end()
      }
    }
    const database = async (): Promise<string> => {
      const name = `fedrec_${++created}`
      await admin('postgres', `CREATE DATABASE ${name} STRATEGY FILE_COPY`)
      return `${base}/${name}`
    }
    const url = await database()
    const main = new URL(url).pathname.slice(1)
    return {
      url,
      dir,
      database,
      async schema() {
        const name = `store_${++created}`
        await admin(main, `CREATE SCHEMA ${name}`)
        return `${url}?options=${encodeURIComponent(`-c search_path=${name}`)}`
      },
      shutdown: () => ctl('stop', '-m', 'fast'),
      start: () => ctl('start'),
      restart: () => ctl('restart', '-m', 'fast'),
      async stop() {
        release()
        await ctl('stop', '-m', 'immediate')
        rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

/** The newest installed major version's `bin` folder under `root`. */
function serverBinaries(root: string): string {
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  const newest = versions[0]
  if (newest === undefined)
    throw new Error(
      `no PostgreSQL server binaries in ${root}/<version>/bin: the PostgreSQL store's tests run a real server; install Debian's package with \`apt-get install postgresql\` (.ci/run does this)`,
    )
  return join(DEBIAN_ROOT, newest, 'bin')
}

/** The `postgres` system user when running as root (the server refuses root), else null: run as oneself. */
async function serverUser(): Promise<{ name: string; uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null
  const name = 'postgres'
  try {
    const uid = Number((await run('id', ['-u', name])).stdout.trim())
    const gid = Number((await run('id', ['-g', name])).stdout.trim())
    return { name, uid, gid }
  } catch (err) {
    throw new Error(
      `running as root, the test server must run as the system user ${name}, which does not exist: install Debian's \`postgresql\` package (it creates the user) or run the tests as another user`,
      { cause: err },
    )
  }
}

/** A TCP port of 127.0.0.1 that was free a moment ago (PostgreSQL cannot be told to pick one itself). */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const address = probe.address()
  probe.close()
  if (typeof address !== 'object' || address === null) throw new Error(`no TCP port: ${String(address)}`)
  return address.port
}

/**
 * Ties the cluster in `dir` to this process, so that a test process that ends without `stop()` — killed from
 * outside (SIGKILL, a runner's timeout) or exiting early — leaves no server behind: an exit handler stops it
 * at once on an ordinary exit, and a watchdog process (detached, its own session) stops it and removes the
 * folder once this process's pid is gone, whatever ended it. Returns the release that `stop()` calls.
 */
function tieToProcess(dir: string, asOwner: string[], pgCtl: string, data: string): () => void {
  const stopArgv = [...asOwner, pgCtl, '-D', data, 'stop', '-m', 'immediate']
  const onExit = (): void => {
    try {
      execFileSync(stopArgv[0]!, stopArgv.slice(1), { stdio: 'ignore', timeout: 60_000 })
    } catch {
      // Already stopped.
    }
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', onExit)
  const quoted = (argv: string[]) => argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
  // A poll of the parent's pid once a second: this is the watchdog's own loop, not a test waiting on time.
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${quoted(stopArgv)} >/dev/null 2>&1; rm -rf ${quoted([dir])}`
  const watchdog = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' })
  watchdog.unref()
  return () => {
    process.removeListener('exit', onExit)
    if (watchdog.exitCode === null && watchdog.pid !== undefined) watchdog.kill('SIGKILL')
  }
}
