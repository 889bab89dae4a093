// The Store contract (../store-contract.ts) on SQLite: the same tests the PostgreSQL store passes, on a fresh
// in-memory database per test.
import { openStore } from '../index.ts'
import { describeStoreContract } from '../store-contract.ts'

describeStoreContract('SQLite', async () => openStore(':memory:', { create: true }))
