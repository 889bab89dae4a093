// The secure-aggregation error class and its codes, with a guard that also knows an error rebuilt after
// crossing a worker (its class is lost there; its name and code are not).
import { CodedError } from '@fedrec/protocol'

/** Every SecAggErrorCode, so a guard can check an error rebuilt from a worker's message. */
const SECAGG_ERROR_CODES = [
  'bad_parameters',
  'bad_phase',
  'bad_message',
  'cohort_too_small',
  'cohort_too_large',
  'threshold_too_low',
  'unknown_client',
  'duplicate_message',
  'decrypt_failed',
  'both_shares_requested',
  'too_few_survivors',
  'reconstruct_failed',
  'vector_length',
  'overflow',
] as const

/** Why a secure-aggregation step was refused. Stable strings: servers put them in `{ error: { code } }`. */
export type SecAggErrorCode = (typeof SECAGG_ERROR_CODES)[number]

const CODES = new Set<string>(SECAGG_ERROR_CODES)

/**
 * A secure-aggregation message, parameter or phase the protocol cannot accept. Thrown before any state
 * changes, so a server can answer 4xx and keep the cohort going, and a client can abort without leaking.
 * Across a worker boundary the class is lost: test with `isSecAggError`, not `instanceof`.
 * @example
 * try { server.addMaskedInput(msg) } catch (err) { if (isSecAggError(err)) reply(409, err.code, err.message) }
 */
export class SecAggError extends CodedError<SecAggErrorCode> {
  override name = 'SecAggError'
}

/**
 * True for a SecAggError, including one rebuilt from a worker's message (its class is lost there, its name
 * and code are not): the one place that decides by `name` and `code`.
 * @example try { await server.finish() } catch (err) { if (isSecAggError(err) && err.code === 'too_few_survivors') abort(err.message) }
 */
export function isSecAggError(err: unknown): err is SecAggError {
  return (
    err instanceof Error &&
    err.name === 'SecAggError' &&
    'code' in err &&
    typeof err.code === 'string' &&
    CODES.has(err.code)
  )
}
