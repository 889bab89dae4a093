// The operator's route for throwing away a round's updates (e.g. a poisoned round) and starting it again.
import { Hono } from 'hono'
import type { Aggregator } from '../aggregator/index.ts'
import { HttpError } from '../errors.ts'
import { operatorAuth } from './operator-auth.ts'
import { limitBody } from './updates.ts'

/**
 * `POST /round/reset` (operator token) → RoundReset: discards the open round's accepted updates and
 * reopens it on the same model with a fresh deadline, e.g. when the operator believes the round is
 * poisoned. An optional body `{ "round": n }` resets only if round n is still the open one, so a reset
 * aimed at a round that closed meanwhile cannot discard the next one.
 */
export function resetRoutes(aggregator: Aggregator, { operatorToken }: { operatorToken: string }): Hono {
  return new Hono().post('/round/reset', operatorAuth(operatorToken), limitBody(4096), async (c) => {
    const text = await c.req.text()
    if (text.trim() === '') return c.json(await aggregator.resetRound())
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch (err) {
      throw new HttpError(400, 'bad_json', 'the body must be empty or JSON: { "round": 7 }', { cause: err })
    }
    return c.json(await aggregator.resetRound(parseExpectedRound(body)))
  })
}

/** `{}` or `{ round: n }` with n a round number; anything else is `bad_message`. */
function parseExpectedRound(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, 'bad_message', 'the body must be a JSON object: { "round": 7 } or {}')
  const extra = Object.keys(body).filter((k) => k !== 'round')
  if (extra.length > 0)
    throw new HttpError(
      400,
      'bad_message',
      `unknown key ${JSON.stringify(extra[0])}; the only one is "round"`,
    )
  if (!('round' in body)) return undefined
  const { round } = body
  if (typeof round !== 'number' || !Number.isSafeInteger(round) || round < 0)
    throw new HttpError(400, 'bad_message', `round must be an integer ≥ 0, got ${JSON.stringify(round)}`)
  return round
}
