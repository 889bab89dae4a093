import { Hono } from 'hono'
import type { Aggregator } from '../aggregator/index.ts'

/** `GET /status` → Status: the open round's progress, the configuration and the closed rounds. */
export function statusRoutes(aggregator: Aggregator): Hono {
  return new Hono().get('/status', (c) => {
    c.header('Cache-Control', 'no-store')
    return c.json(aggregator.status())
  })
}
