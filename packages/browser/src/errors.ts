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

// The worker sends errors as { name, message } plus our code carried in the message prefix "[code] ";
// this turns them back into FedrecErrors on the page.
const PREFIX = /^\[([a-z_]+)\] /

export function encodeForTransfer(err: unknown): Error {
  if (isFedrecError(err)) return new Error(`[${err.code}] ${err.message}`)
  if (err instanceof Error) return new Error(`[internal] ${err.name}: ${err.message}`)
  return new Error(`[internal] ${String(err)}`)
}

export function decodeFromTransfer(err: unknown): FedrecError {
  const message = err instanceof Error ? err.message : String(err)
  const match = PREFIX.exec(message)
  const code = match && CODES.has(match[1]!) ? (match[1] as FedrecErrorCode) : 'internal'
  return new FedrecError(code, match ? message.slice(match[0].length) : message, { cause: err })
}
