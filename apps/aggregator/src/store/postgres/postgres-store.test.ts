// The Store contract (../store-contract.ts) on a real PostgreSQL server: one cluster for the file, one fresh
// schema per test (to the store as empty as a new database).
import { afterAll, beforeAll } from 'vitest'
import { describeStoreContract } from '../store-contract.ts'
import { openPostgresStore } from './index.ts'
import { startPostgres, type TestPostgres } from './test-postgres.ts'

let server: TestPostgres
// Hang guards, not expectations: initdb and a start take seconds on a loaded machine.
beforeAll(async () => {
  server = await startPostgres()
}, 120_000)
afterAll(() => server?.stop(), 60_000)

describeStoreContract('PostgreSQL', async () => openPostgresStore(await server.schema(), { create: true }))
