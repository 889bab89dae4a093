// The errors of the protocol client: what a caller can act on, by code, whatever the runtime.
import { CodedError } from '../errors.ts'

/**
 * How an exchange with the aggregator failed: `network` (no answer on any attempt, or rate limited on the
 * last), `server_error` (5xx on every attempt: up but failing), `rejected` (a 4xx, or an answer of the
 * wrong kind: the aggregator's final word).
 */
export type ClientErrorCode = 'network' | 'server_error' | 'rejected'

/**
 * An exchange with the aggregator that failed. `status` is the last answer's HTTP status, when there was one.
 * Compare `err.name` and `err.code` across a worker boundary, not `instanceof`.
 * @example catch (err) { if (err instanceof ClientError && err.status === 429) say('start it with --ip-rate 0') }
 */
export class ClientError extends CodedError<ClientErrorCode> {
  override name = 'ClientError'
  readonly status: number | undefined

  constructor(code: ClientErrorCode, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(code, message, { cause: options.cause })
    this.status = options.status
  }
}

/**
 * The aggregator said no: a 4xx with its `{ error: { code, message } }` body; `reason` is that code.
 * @example catch (err) { if (err instanceof RejectedError && err.reason === 'id_taken') drawAnotherId() }
 */
export class RejectedError extends ClientError {
  override name = 'RejectedError'
  declare readonly status: number
  readonly reason: string

  constructor(status: number, reason: string, message: string) {
    super('rejected', `aggregator refused (${status} ${reason}): ${message}`, { status })
    this.reason = reason
  }
}

/** True for a refusal with one of `reasons`. @example if (isRefusal(err, ['wrong_phase'])) lookAgain() */
export function isRefusal(err: unknown, reasons: readonly string[]): err is RejectedError {
  return err instanceof RejectedError && reasons.includes(err.reason)
}
