// The aggregator's error classes, one per way a failure ends: an HTTP answer, an exit at start, or refused
// writes.
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/**
 * An error the HTTP layer answers with `status` and JSON `{ error: { code, message } }`.
 * @example throw new HttpError(409, 'stale_model', `update is for model version 3, the current one is 4`)
 */
export class HttpError extends Error {
  override name = 'HttpError'
  readonly status: ContentfulStatusCode
  readonly code: string

  constructor(status: ContentfulStatusCode, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.status = status
    this.code = code
  }
}

/**
 * The aggregator cannot start: a store that is not a fedrec store or is corrupt, or options that contradict
 * it. The CLI prints the message and exits with code 1; it never falls back to a fresh model.
 * @example throw new StartupError(`${path} is not a fedrec aggregator store`)
 */
export class StartupError extends Error {
  override name = 'StartupError'
}

/**
 * The store file was deleted or replaced under the running aggregator: SQLite keeps writing to the unlinked
 * file through its open handle, and everything written would be gone at the next start. Writes are refused
 * (503) until the operator restores the file and restarts.
 * @example throw new StoreLostError(`store ${path} was deleted while the aggregator runs`)
 */
export class StoreLostError extends Error {
  override name = 'StoreLostError'
}
