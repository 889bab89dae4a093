// What is worth trying again: a request (transport retries) and a round (retrain on a refusal that says so).
import { isErrorBody } from '../messages.ts'
import { ClientError, RejectedError } from './errors.ts'
import { type Fetch, sleep, type WireRequestInit, type WireResponse } from './wire.ts'

/** How often and how patiently a request is tried. */
export interface RetryPolicy {
  /** Attempts after the first one. */
  retries: number
  /** First back-off; doubled after each failure, with jitter. */
  baseDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 300 }

/**
 * The answers a repeat may change, as the aggregator gives them: 429 `rate_limited` (with Retry-After),
 * 503 `starting` / `store_unavailable` (a state that passes) and 500 `internal`. Any other status is the
 * aggregator's final word on that request.
 */
export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500

/**
 * The refusals of an upload or a join that say "the round moved on while you trained": fetch the round and
 * the model again and train anew (a repeat of the same bytes would be refused again). From the aggregator's
 * own codes: `round_closed`, `future_round` and `stale_model` (AggregatorError, 409, a plain update for
 * another round or model), `round_reset` (409, an update the operator's reset discarded) and `stale_round`
 * (SecAggRefusal, 409, a join for another round or model version, or a model with no items yet).
 */
export const RETRAIN_CODES: readonly string[] = [
  'round_closed',
  'future_round',
  'stale_model',
  'round_reset',
  'stale_round',
]

/** Options of {@link fetchWithRetry}. */
export interface FetchWithRetryOptions {
  fetch: Fetch
  policy: RetryPolicy
  /** Told of each retry before its back-off (for a debug log). */
  onRetry?: (attempt: number, url: string, delayMs: number) => void
}

/**
 * fetch with retries and exponential back-off for what may pass (network failures, {@link isRetryableStatus});
 * a 4xx is the server's final word and becomes a RejectedError at once. Retrying an upload resends the same
 * bytes with the same idempotency key, so the aggregator counts it once. When every attempt fails, the
 * error says which way: `server_error` when the last attempt got a 5xx answer (the aggregator is up but
 * failing), `network` when it got none (unreachable, offline) or was rate limited (`status` 429).
 * @example const res = await fetchWithRetry(url, { cache: 'no-store' }, { fetch, policy: DEFAULT_RETRY })
 */
export async function fetchWithRetry(
  url: string,
  init: WireRequestInit,
  { fetch, policy, onRetry }: FetchWithRetryOptions,
): Promise<WireResponse> {
  let lastError: unknown
  let lastStatus: number | undefined
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    if (attempt > 0) {
      const delay = policy.baseDelayMs * 2 ** (attempt - 1) * (0.75 + Math.random() / 2)
      onRetry?.(attempt, url, Math.round(delay))
      await sleep(delay)
    }
    let res: WireResponse
    try {
      res = await fetch(url, init)
    } catch (err) {
      lastError = err
      lastStatus = undefined
      continue
    }
    lastStatus = res.status
    if (res.status >= 500) {
      lastError = await serverError(res)
      continue
    }
    if (res.status === 429) {
      lastError = new Error(`HTTP ${res.status}`)
      await res.body?.cancel()
      continue
    }
    if (res.status >= 400) throw await rejection(res)
    return res
  }
  if (lastError instanceof ServerAnswer)
    throw new ClientError(
      'server_error',
      `aggregator at ${url} answered ${lastError.message} on ${policy.retries + 1} attempts: it is up but failing (its log says why); retry later`,
      { cause: lastError, ...(lastStatus === undefined ? {} : { status: lastStatus }) },
    )
  throw new ClientError('network', `aggregator unreachable at ${url} after ${policy.retries + 1} attempts`, {
    cause: lastError,
    ...(lastStatus === undefined ? {} : { status: lastStatus }),
  })
}

/** A 5xx answer: the aggregator was reached. Its message is the status and the body's error code. */
class ServerAnswer extends Error {
  override name = 'ServerAnswer'
}

async function errorBody(res: WireResponse): Promise<unknown> {
  try {
    return JSON.parse(await res.text())
  } catch {
    return undefined
  }
}

async function serverError(res: WireResponse): Promise<ServerAnswer> {
  const body = await errorBody(res)
  return new ServerAnswer(
    isErrorBody(body) ? `${res.status} ${body.error.code} (${body.error.message})` : `HTTP ${res.status}`,
  )
}

/** A 4xx answer as the RejectedError it means. */
export async function rejection(res: WireResponse): Promise<RejectedError> {
  const body = await errorBody(res)
  if (isErrorBody(body)) return new RejectedError(res.status, body.error.code, body.error.message)
  return new RejectedError(res.status, 'http_error', `HTTP ${res.status}`)
}
