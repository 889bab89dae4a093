// The test server helper says what to install when PostgreSQL's server binaries are missing, instead of
// letting the store's tests skip.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
