// The status route behind the dashboard: public figures for anyone, the live round for the operator.
import { Hono } from 'hono'
import type { Aggregator } from '../aggregator/index.ts'
import { operatorAuth } from './operator-auth.ts'

/**
 * `GET /status` → PublicStatus without an `Authorization` header: the model, the round settings and the
 * rounds closed with at least the quorum. With the operator token → Status, the open round's progress
 * included. A wrong token is 401 as on every operator endpoint, not the public answer: an operator whose
 * token is mistyped must not take the public figures for the live ones.
 */
export function statusRoutes(aggregator: Aggregator, { operatorToken }: { operatorToken: string }): Hono {
  const auth = operatorAuth(operatorToken)
  return new Hono().get(
    '/status',
    async (c, next) => {
      c.header('Cache-Control', 'no-store')
      // Two answers under one URL: a cache keyed on the URL alone could hand the operator's to anyone.
      c.header('Vary', 'Authorization')
      if (c.req.header('authorization') === undefined) return c.json(await aggregator.publicStatus())
      return auth(c, next)
    },
    async (c) => c.json(await aggregator.status()),
  )
}
