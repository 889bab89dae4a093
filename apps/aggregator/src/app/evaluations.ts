// The route where clients report how well a published model ranks their held-out items.
import { parseEvaluationReport } from '@fedrec/protocol'
import { Hono } from 'hono'
import type { Aggregator } from '../aggregator/index.ts'
import { HttpError } from '../errors.ts'
import { limitByAddress } from './rate-limit.ts'
import { DEFAULT_IP_RATE, limitBody } from './updates.ts'

/** A report is six small numbers; anything much bigger is not one. */
const MAX_REPORT_BYTES = 4096

/**
 * `POST /evaluations` with an EvaluationReport as JSON → EvaluationAck once it is durable. The same
 * idempotency key again → the same answer with `duplicate: true`, counted once. Only the current model
 * version and the few before it are taken (409 otherwise, saying which version to evaluate). Limited per
 * remote address like uploads (`--ip-rate`): each report costs a durable write.
 */
export function evaluationRoutes(
  aggregator: Aggregator,
  { ipRatePerMinute }: { ipRatePerMinute?: number | undefined },
): Hono {
  const perAddress = limitByAddress(ipRatePerMinute ?? DEFAULT_IP_RATE)
  return new Hono().post('/evaluations', perAddress, limitBody(MAX_REPORT_BYTES), async (c) => {
    let body: unknown
    try {
      body = await c.req.json()
    } catch (err) {
      throw new HttpError(
        400,
        'bad_json',
        'the body must be JSON: { round, modelVersion, idempotencyKey, users, hits10, ndcg10 }',
        { cause: err },
      )
    }
    return c.json(await aggregator.evaluate(parseEvaluationReport(body)))
  })
}
