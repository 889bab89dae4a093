// The operator's settings routes. The path says "config" and the code "settings" on purpose: `/v1/config`
// is a published operator API (scripts and the dashboard call it), so it keeps its name.
import { Hono } from 'hono'
import { type Aggregator, parseSettingsPatch } from '../aggregator/index.ts'
import { HttpError } from '../errors.ts'
import { operatorAuth } from './operator-auth.ts'
import { limitBody } from './updates.ts'

/**
 * `GET /config` → the settings an operator may change; `PATCH /config` with some of them as JSON → the
 * settings after the change. Both need the operator token. Changes last until the next start.
 */
export function settingsRoutes(aggregator: Aggregator, { operatorToken }: { operatorToken: string }): Hono {
  const auth = operatorAuth(operatorToken)
  return new Hono()
    .get('/config', auth, (c) => {
      c.header('Cache-Control', 'no-store')
      return c.json(aggregator.settings())
    })
    .patch('/config', auth, limitBody(4096), async (c) => {
      let body: unknown
      try {
        body = await c.req.json()
      } catch (err) {
        throw new HttpError(400, 'bad_json', 'the body must be JSON, e.g. { "minClients": 10 }', {
          cause: err,
        })
      }
      return c.json(await aggregator.updateSettings(parseSettingsPatch(body)))
    })
}
