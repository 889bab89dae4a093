// The app's route tests on both stores: `describeStores` runs a suite once on SQLite (in memory) and once on
// a real PostgreSQL server (a fresh schema per aggregator), through `setup()`'s store (test-app.ts).
import { afterAll, beforeAll, describe } from 'vitest'
import { startPostgres, type TestPostgres } from '../store/postgres/test-postgres.ts'

let storeFactory: () => Promise<string> = async () => ':memory:'

/** Where `setup()` puts its next aggregator's store: `':memory:'`, or a fresh PostgreSQL schema's URL. */
export const nextStore = (): Promise<string> => storeFactory()

/**
 * `describe(name, body)` twice: on SQLite, then on PostgreSQL (one server for the suite).
 * @example describeStores('POST /v1/updates', () => { it('…', async () => { const { app } = await setup() }) })
 */
export function describeStores(name: string, body: () => void): void {
  describe(`${name} [SQLite]`, body)
  describe(`${name} [PostgreSQL]`, () => {
    let server: TestPostgres | undefined
    beforeAll(async () => {
      server = await startPostgres()
      const running = server
      storeFactory = () => running.schema()
    }, 120_000)
    afterAll(async () => {
      storeFactory = async () => ':memory:'
      await server?.stop()
    }, 60_000)
    body()
  })
}
