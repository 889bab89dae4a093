/**
 * The one client of the aggregator's HTTP protocol, for the browser, the simulator and the tests: round
 * info, the model (whole or a patch since a held version), updates, evaluations and the secure-aggregation
 * requests, over an injectable `fetch` with one retry policy; failures are typed ClientErrors.
 * @example
 * const client = createProtocolClient({ baseUrl: 'https://agg.example/' })
 * const info = await client.roundInfo()
 * @module
 */

import { UPDATE_MEDIA_TYPE } from '../constants.ts'
import {
  type EvaluationAck,
  type EvaluationReport,
  parseEvaluationAck,
  parseRoundInfo,
  parseUpdateAck,
  type RoundInfo,
  type UpdateAck,
} from '../messages.ts'
import { ClientError } from './errors.ts'
import { type HeldModel, type ModelOutcome, type ModelSinceOutcome, modelSince, wholeModel } from './model.ts'
import { apiUrl, createRequester, type Meter, type Requester, readJson } from './request.ts'
import { DEFAULT_RETRY, type RetryPolicy } from './retry.ts'
import { createSecAggRequests, type SecAggRequests } from './secagg.ts'
import { type Fetch, platformFetch, type WireRequestInit, type WireResponse } from './wire.ts'

/** Options of {@link createProtocolClient}. */
export interface ProtocolClientOptions<R extends WireResponse = WireResponse> {
  /** The aggregator's base URL, e.g. 'https://agg.example/' (a missing trailing slash is added). */
  baseUrl: string
  /** The platform's `fetch` unless given (a test's, or one with a dispatcher). */
  fetch?: Fetch<R>
  /** Attempts and back-off of every request but {@link ProtocolClient.send}; default {@link DEFAULT_RETRY}. */
  retry?: RetryPolicy
  /** Told of each retry (for a debug log). */
  onRetry?: (attempt: number, url: string, delayMs: number) => void
}

/** A client of one aggregator. Every call but `send` retries what may pass and throws typed ClientErrors. */
export interface ProtocolClient<R extends WireResponse = WireResponse> {
  /** The URL of a path of the API. */
  url(path: string): string
  /** One attempt, any answer returned as it is (for tests of the status codes); no answer → ClientError `network`. */
  send(path: string, init?: WireRequestInit): Promise<R>
  /** A request through the retry policy: a 2xx or 304 answer. */
  request: Requester
  /** `GET /v1/round`. */
  roundInfo(meter?: Meter): Promise<RoundInfo>
  /** `GET /v1/model`, naming the held model's ETag: `current` on 304. */
  model(held: HeldModel | null, meter?: Meter): Promise<ModelOutcome>
  /** `GET /v1/model?since=`: a patch on the held model when the aggregator has one (see `modelSince`). */
  modelSince(held: HeldModel, meter?: Meter): Promise<ModelSinceOutcome>
  /** `POST /v1/updates` with an encoded update (`encodeUpdate`). */
  postUpdate(body: Uint8Array<ArrayBuffer>, meter?: Meter): Promise<UpdateAck>
  /** `POST /v1/evaluations`. */
  postEvaluation(report: EvaluationReport, meter?: Meter): Promise<EvaluationAck>
  /** The secure-aggregation requests. */
  secagg: SecAggRequests
}

/**
 * A client of the aggregator at `baseUrl`.
 * @example const client = createProtocolClient({ baseUrl: url, retry: { retries: 0, baseDelayMs: 1 } })
 */
export function createProtocolClient<R extends WireResponse = WireResponse>(
  options: ProtocolClientOptions<R>,
): ProtocolClient<R> {
  const { baseUrl } = options
  // Typed as the caller's answer only where the caller gets it back whole (`send`).
  const fetchAnswer = (options.fetch ?? platformFetch) as Fetch<R>
  const request = createRequester(baseUrl, {
    fetch: fetchAnswer,
    policy: options.retry ?? DEFAULT_RETRY,
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  })
  return {
    url: (path) => apiUrl(baseUrl, path),
    async send(path, init = {}) {
      const url = apiUrl(baseUrl, path)
      try {
        return await fetchAnswer(url, init)
      } catch (cause) {
        throw new ClientError('network', `aggregator unreachable at ${url}: ${String(cause)}`, { cause })
      }
    },
    request,
    roundInfo: async (meter) =>
      parseRoundInfo(await readJson(await request('v1/round', { cache: 'no-store' }, meter), meter)),
    model: (held, meter) => wholeModel(request, held, meter),
    modelSince: (held, meter) => modelSince(request, held, meter),
    postUpdate: async (body, meter) => {
      const init = { method: 'POST', headers: { 'content-type': UPDATE_MEDIA_TYPE }, body }
      return parseUpdateAck(await readJson(await request('v1/updates', init, meter), meter))
    },
    postEvaluation: async (report, meter) => {
      const init = {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(report),
      }
      return parseEvaluationAck(await readJson(await request('v1/evaluations', init, meter), meter))
    },
    secagg: createSecAggRequests(request),
  }
}

export { ClientError, type ClientErrorCode, isRefusal, RejectedError } from './errors.ts'
export type { HeldModel, ModelOutcome, ModelSinceOutcome } from './model.ts'
export { apiUrl, type Meter, newMeter, type Requester } from './request.ts'
export {
  DEFAULT_RETRY,
  fetchWithRetry,
  isRetryableStatus,
  RETRAIN_CODES,
  type RetryPolicy,
} from './retry.ts'
export type { SecAggRequests } from './secagg.ts'
export type { Fetch, WireRequestInit, WireResponse } from './wire.ts'
