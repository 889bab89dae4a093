// The route a client polls first: which round is open and how to train for it.
import { Hono } from 'hono'
import type { Aggregator } from '../aggregator/index.ts'

/** `GET /round` → RoundInfo: the open round, the model version it trains on and the client settings. */
export function roundRoutes(aggregator: Aggregator): Hono {
  return new Hono().get('/round', async (c) => {
    // Replicas: the open round as the store has it, not as this process last saw it.
    await aggregator.sync()
    c.header('Cache-Control', 'no-store')
    return c.json(aggregator.roundInfo())
  })
}
