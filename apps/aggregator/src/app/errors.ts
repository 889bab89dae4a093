// Every error becomes an HTTP answer here: the status of each error class and code, and what is logged.
import { AggregationError } from '@fedrec/core/server'
import { ProtocolError } from '@fedrec/protocol'
import createDebug from 'debug'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { AggregatorError, type AggregatorErrorCode } from '../aggregator/index.ts'
import { CatalogueError } from '../catalogue.ts'
import { logError } from '../error-log.ts'
import { HttpError, StoreLostError } from '../errors.ts'
import { SecAggRefusal, type SecAggRefusalCode } from '../secagg/errors.ts'

const log = createDebug('fedrec:aggregator:http')

const AGGREGATOR_STATUS: Record<AggregatorErrorCode, ContentfulStatusCode> = {
  sample_count_too_large: 400,
  empty_update: 400,
  round_closed: 409,
  future_round: 409,
  stale_model: 409,
  already_submitted: 409,
  idempotency_conflict: 409,
  empty_catalogue: 409,
  update_norm_too_large: 400,
  unknown_model_version: 409,
  evaluation_too_old: 409,
  bad_evaluation_round: 400,
  bad_settings: 400,
  round_reset: 409,
  evaluation_users_too_large: 400,
  bad_since: 400,
  not_a_participant: 403,
  already_evaluated: 409,
}

const SECAGG_STATUS: Record<SecAggRefusalCode, ContentfulStatusCode> = {
  unknown_cohort: 404,
  cohort_not_forming: 409,
  stale_round: 409,
  already_joined: 409,
  id_taken: 409,
  not_a_member: 403,
  wrong_phase: 409,
  already_sent: 409,
  cohort_ended: 409,
  bad_secagg_message: 400,
  secure_aggregation_required: 409,
}

/**
 * The one place errors become answers: `{ error: { code, message } }` with a status by error class and code.
 * Unknown errors are a 500 whose message says nothing about the internals; the log has the details.
 * @example app.onError(errorToResponse)
 */
export function errorToResponse(err: Error, c: Context): Response {
  const { status, code, message } = classify(err)
  // 503s are states, not failures: `starting` passes in a second, a lost store is logged once where found.
  if (status >= 500 && status !== 503)
    logError('request_failed', err, { method: c.req.method, path: c.req.path, status })
  else log('%s %s refused: %d %s: %s', c.req.method, c.req.path, status, code, message)
  return c.json({ error: { code, message } }, status)
}

/** The `{ error: { code } }` an error is answered with. @example errorCode(new ProtocolError('checksum', '…')) // 'checksum' */
export const errorCode = (err: Error): string => classify(err).code

function classify(err: Error): { status: ContentfulStatusCode; code: string; message: string } {
  if (err instanceof HttpError) return { status: err.status, code: err.code, message: err.message }
  if (err instanceof ProtocolError) return { status: 400, code: err.code, message: err.message }
  if (err instanceof AggregationError) return { status: 400, code: err.code, message: err.message }
  if (err instanceof AggregatorError)
    return { status: AGGREGATOR_STATUS[err.code], code: err.code, message: err.message }
  if (err instanceof SecAggRefusal)
    return { status: SECAGG_STATUS[err.code], code: err.code, message: err.message }
  if (err instanceof CatalogueError) return { status: 400, code: err.code, message: err.message }
  if (err instanceof StoreLostError) return { status: 503, code: 'store_unavailable', message: err.message }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode
    return { status, code: `http_${status}`, message: err.message || 'request refused' }
  }
  return { status: 500, code: 'internal', message: 'internal error; see the aggregator log' }
}
