// The browser library's error codes and class, and how errors from the protocol client or the worker
// become them.
import { ClientError, CodedError } from '@fedrec/protocol'

/** Codes a caller can act on. */
export const FEDREC_ERROR_CODES = [
  'bad_option',
  'bad_event',
  'network',
  'rejected',
  'already_submitted',
  'storage',
  'no_backend',
  'closed',
  /** The shopper paused learning: `sync()` does not run (and `track()` stores nothing). */
  'paused',
  /**
   * A secure-aggregated round's cohort aborted (too few members or survivors) and no fresh one completed in
   * time: nothing of this device was counted; a later `sync()` tries again.
   */
  'secagg_aborted',
  /**
   * The model the aggregator sent does not decode (checksum, format): damaged on the way (a proxy) or in the
   * aggregator's store. Nothing was trained on it; retry later.
   */
  'corrupt_model',
  /** The aggregator answered 5xx on every attempt: it is up but failing (its log says why); retry later. */
  'server_error',
  'internal',
] as const
export type FedrecErrorCode = (typeof FEDREC_ERROR_CODES)[number]

/**
 * Every error the library throws. Errors lose their class when they cross the worker boundary, so compare
 * `err.name === 'FedrecError'` and `err.code`, not `instanceof`.
 * @example try { await rec.sync() } catch (err) { if (isFedrecError(err) && err.code === 'network') retryLater() }
 */
export class FedrecError extends CodedError<FedrecErrorCode> {
  override name = 'FedrecError'
}

const CODES = new Set<string>(FEDREC_ERROR_CODES)

/**
 * A protocol client's error as the library's own, same code and message (`network`, `server_error` and
 * `rejected` are codes of both); any other error as it is.
 * @example catch (err) { throw fromClientError(err) }
 */
export function fromClientError(err: unknown): unknown {
  if (err instanceof ClientError) return new FedrecError(err.code, err.message, { cause: err })
  return err
}

/** True for a FedrecError, including one rebuilt from a worker's message (same name, same fields). */
export function isFedrecError(err: unknown): err is FedrecError {
  return (
    err instanceof Error && err.name === 'FedrecError' && typeof (err as { code?: unknown }).code === 'string'
  )
}

/**
 * Any error as a FedrecError: itself, a protocol client's error under its code, anything else `internal`
 * naming what it was.
 * @example catch (err) { throw toFedrecError(err) }
 */
export function toFedrecError(err: unknown): FedrecError {
  const known = fromClientError(err)
  if (isFedrecError(known)) return known
  if (err instanceof Error) return new FedrecError('internal', `${err.name}: ${err.message}`, { cause: err })
  return new FedrecError('internal', String(err), { cause: err })
}

/** True for one of the codes above (a code read from a message is outside data). */
export const isFedrecErrorCode = (code: unknown): code is FedrecErrorCode =>
  typeof code === 'string' && CODES.has(code)
