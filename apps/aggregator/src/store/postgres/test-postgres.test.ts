// The test server helper says what to install when PostgreSQL's server binaries are missing, instead of
// letting the store's tests skip.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { expect, it } from 'vitest'
import { startPostgres } from './test-postgres.ts'

it('refuses to start without server binaries, naming the Debian package to install', async () => {
  const root = mkdtempSync(join(tmpdir(), 'fedrec-no-pg-'))
  try {
    await expect(startPostgres({ root })).rejects.toThrow(
      `no PostgreSQL server binaries in ${root}/<version>/bin: the PostgreSQL store's tests run a real server; install Debian's package with \`apt-get install postgresql\``,
    )
    await expect(startPostgres({ root: join(root, 'missing') })).rejects.toThrow('apt-get install postgresql')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

it('stops the server and removes its folder when the process that started it is killed', async () => {
  const helper = join(dirname(fileURLToPath(import.meta.url)), 'test-postgres.ts')
  const program = `const { startPostgres } = await import(${JSON.stringify(helper)}); const s = await startPostgres(); console.log(JSON.stringify({ url: s.url, dir: s.dir })); setInterval(() => {}, 1 << 30)`
  // From the repository root, where tsx is installed.
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
    cwd: join(dirname(fileURLToPath(import.meta.url)), '../../../../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [line] = (await once(child.stdout!.setEncoding('utf8'), 'data')) as [string]
  const { url, dir } = JSON.parse(line) as { url: string; dir: string }
  const answers = async () => {
    const client = new pg.Client({ connectionString: url })
    try {
      await client.connect()
      await client.end()
      return true
    } catch {
      return false
    }
  }
  expect(await answers()).toBe(true)
  child.kill('SIGKILL')
  await once(child, 'exit')
  // Polled: the watchdog notices within its own loop.
  while ((await answers()) || existsSync(dir)) await new Promise((resolve) => setImmediate(resolve))
  expect(existsSync(dir)).toBe(false)
}, 120_000)
