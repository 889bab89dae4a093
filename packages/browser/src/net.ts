import { isErrorBody } from '@fedrec/protocol'
import createDebug from 'debug'
import { FedrecError } from './errors.ts'

const log = createDebug('fedrec:browser:net')

export interface RetryPolicy {
  /** Attempts after the first one. */
  retries: number
  /** First back-off; doubled after each failure, with jitter. */
  baseDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 300 }

/** The aggregator said no: a 4xx with its `{ error: { code, message } }` body. */
export class RejectedError extends FedrecError {
  readonly status: number
  readonly reason: string

  constructor(status: number, reason: string, message: string) {
    super('rejected', `aggregator refused (${status} ${reason}): ${message}`)
    this.status = status
    this.reason = reason
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * fetch with retries and exponential back-off for what may pass (network failures, 5xx, 429); a 4xx is the
 * server's final word and becomes a RejectedError at once. Retrying an upload resends the same bytes with
 * the same idempotency key, so the aggregator counts it once. When every attempt fails, the error says which
 * way: `server_error` when the last attempt got a 5xx answer (the aggregator is up but failing), `network`
 * when it got none (unreachable, offline) or was rate limited.
 */
export async function fetchWithRetry(url: string, init: RequestInit, policy: RetryPolicy): Promise<Response> {
  let lastError: unknown
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    if (attempt > 0) {
      const delay = policy.baseDelayMs * 2 ** (attempt - 1) * (0.75 + Math.random() / 2)
      log('retry %d of %s in %d ms', attempt, url, Math.round(delay))
      await sleep(delay)
    }
    let res: Response
    try {
      res = await fetch(url, init)
    } catch (err) {
      lastError = err
      continue
    }
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
    throw new FedrecError(
      'server_error',
      `aggregator at ${url} answered ${lastError.message} on ${policy.retries + 1} attempts: it is up but failing (its log says why); retry later`,
      { cause: lastError },
    )
  throw new FedrecError('network', `aggregator unreachable at ${url} after ${policy.retries + 1} attempts`, {
    cause: lastError,
  })
}

/** A 5xx answer: the aggregator was reached. Its message is the status and the body's error code. */
class ServerAnswer extends Error {
  override name = 'ServerAnswer'
}

async function serverError(res: Response): Promise<ServerAnswer> {
  let body: unknown
  try {
    body = await res.json()
  } catch {
    body = undefined
  }
  return new ServerAnswer(
    isErrorBody(body) ? `${res.status} ${body.error.code} (${body.error.message})` : `HTTP ${res.status}`,
  )
}

async function rejection(res: Response): Promise<RejectedError> {
  let body: unknown
  try {
    body = await res.json()
  } catch {
    body = undefined
  }
  if (isErrorBody(body)) return new RejectedError(res.status, body.error.code, body.error.message)
  return new RejectedError(res.status, 'http_error', `HTTP ${res.status}`)
}
