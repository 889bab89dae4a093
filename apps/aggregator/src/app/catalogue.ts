// The operator's route for adding products to the model's catalogue.
import { Hono } from 'hono'
import type { Aggregator } from '../aggregator/index.ts'
import { parseCatalogue } from '../catalogue.ts'
import { HttpError } from '../errors.ts'
import { operatorAuth } from './operator-auth.ts'
import { limitBody } from './updates.ts'

/**
 * `POST /catalogue` (operator token) with `{ itemIds: [...] }` → `CatalogueAnswer`: ids, or objects with an
 * `id` and optionally product features (`category`, `categories`, `brand`, `price`, `title`; parseCatalogue).
 * New ids are queued with their features and join the model when the current round closes, so updates in
 * flight stay valid; items already in the catalogue keep their features (`featuresIgnored` names those
 * offered with others). A bad entry refuses the whole request (400 `bad_item_id` or `bad_feature`, naming the
 * entry and its id) and queues nothing.
 */
export function catalogueRoutes(
  aggregator: Aggregator,
  { operatorToken, maxBodyBytes }: { operatorToken: string; maxBodyBytes: number },
): Hono {
  return new Hono().post('/catalogue', operatorAuth(operatorToken), limitBody(maxBodyBytes), async (c) => {
    let body: unknown
    try {
      body = await c.req.json()
    } catch (err) {
      throw new HttpError(400, 'bad_json', 'the body must be JSON: { "itemIds": ["…"] }', { cause: err })
    }
    if (typeof body !== 'object' || body === null || !('itemIds' in body)) {
      throw new HttpError(400, 'bad_message', 'the body must be an object with an itemIds array')
    }
    return c.json(await aggregator.queueCatalogue(parseCatalogue(body.itemIds, 'itemIds')))
  })
}
