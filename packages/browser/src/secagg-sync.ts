import { createSecAggClient, encodeSecAggVector, type SecAggClient, secAggVectorLength } from '@fedrec/core'
import {
  encodeMaskedInput,
  newRandomId,
  parseSecAggAck,
  parseSecAggJoinAck,
  parseSecAggState,
  parseSecAggView,
  type RoundInfo,
  SECAGG_MASKED_MEDIA_TYPE,
  type SecAggConfig,
  type SecAggView,
  type TensorDelta,
} from '@fedrec/protocol'
import createDebug from 'debug'
import { FedrecError } from './errors.ts'
import { fetchWithRetry, RejectedError, type RetryPolicy } from './net.ts'

const log = createDebug('fedrec:browser:secagg')

/** Options of {@link secureSync}. */
export interface SecureSyncOptions {
  /** Resolves a path of the aggregator's API, e.g. `url('v1/secagg')`. */
  url: (path: string) => string
  retry: RetryPolicy
  /** The round trained for. */
  info: RoundInfo
  /** Its `config.secureAggregation`. */
  config: SecAggConfig
  clientId: string
  /** The plain deltas and n_k of this round: they never leave this function unmasked. */
  deltas: readonly TensorDelta[]
  sampleCount: number
  /** Give up (and count nothing) after this long; default six phase timeouts. */
  timeoutMs?: number
  /** Pause between polls of the cohort. */
  pollMs?: number
}

/** What one secure contribution cost and where it went. */
export interface SecureSyncResult {
  cohort: number
  /** Request bodies sent (join, shares, masked input, unmask shares). */
  bytesUp: number
  /** Response bodies received (state, views with roster and inbox, acks). */
  bytesDown: number
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * One client's part in a secure-aggregated round (Bonawitz et al. 2017, through @fedrec/core's client):
 * joins the forming cohort with fresh keys, shares its secrets, uploads its masked vector and answers the
 * unmasking request, polling `GET …/me` between phases. Resolves once the cohort is done with this
 * client's input in the sum. A cohort that aborts is left for a fresh one (fresh keys, fresh masks) until
 * `timeoutMs`; then it rejects with `secagg_aborted`. A round that moved on rejects with a RejectedError
 * `stale_round` (retrain). The secrets live in this call only: a closed tab is a drop-out.
 * @example const { bytesUp } = await secureSync({ url, retry, info, config: info.config.secureAggregation, clientId, deltas, sampleCount })
 */
export async function secureSync(options: SecureSyncOptions): Promise<SecureSyncResult> {
  const { url, retry, info, config, deltas, sampleCount } = options
  const until = performance.now() + (options.timeoutMs ?? config.phaseTimeoutSeconds * 6000)
  const pollMs = options.pollMs ?? 250
  const vectorLength = secAggVectorLength(info.numItems, info.dim)
  const { vector } = encodeSecAggVector({
    deltas,
    weight: sampleCount,
    numItems: info.numItems,
    dim: info.dim,
  })
  recordForQa(info.round, sampleCount, deltas, vector)
  let bytesUp = 0
  let bytesDown = 0

  /** A request through the retry policy, counting its bytes; the answer's JSON as `unknown`. */
  const call = async (path: string, init: RequestInit = {}): Promise<unknown> => {
    const body = init.body
    bytesUp +=
      typeof body === 'string'
        ? new TextEncoder().encode(body).byteLength
        : body instanceof Uint8Array
          ? body.byteLength
          : 0
    const res = await fetchWithRetry(url(path), { cache: 'no-store', ...init }, retry)
    const text = await res.text()
    bytesDown += new TextEncoder().encode(text).byteLength
    return JSON.parse(text)
  }
  const postJson = (path: string, body: unknown, token?: string) =>
    call(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    })
  const timeLeft = (): boolean => performance.now() < until

  let lastAbort = 'no cohort formed'
  while (timeLeft()) {
    // Join the cohort forming now, for the round this device trained for.
    const state = parseSecAggState(await call('v1/secagg'))
    if (state.round !== info.round)
      throw new RejectedError(
        409,
        'stale_round',
        `the open round is ${state.round}; this device trained for ${info.round}`,
      )
    if (state.phase !== 'advertise') {
      await sleep(pollMs)
      continue
    }
    const id = 1 + (crypto.getRandomValues(new Uint16Array(1))[0]! % 65_535)
    const client = await createSecAggClient({
      sessionId: state.sessionId,
      id,
      vectorLength,
      minClients: config.minCohort,
    })
    const keys = await client.advertiseKeys()
    const token = newRandomId()
    let cohort: number
    try {
      const ack = parseSecAggJoinAck(
        await postJson('v1/secagg/join', {
          round: info.round,
          modelVersion: info.modelVersion,
          cohort: state.cohort,
          clientId: options.clientId,
          id,
          token,
          cPublicKey: keys.cPublicKey,
          sPublicKey: keys.sPublicKey,
        }),
      )
      cohort = ack.cohort
    } catch (err) {
      // Another member drew the same id, or the cohort started meanwhile: try the next one.
      if (err instanceof RejectedError && ['id_taken', 'cohort_not_forming'].includes(err.reason)) continue
      throw err
    }
    log('joined cohort %d as %d', cohort, id)
    const outcome = await takePart(client, cohort, token)
    if (outcome === 'done') return { cohort, bytesUp, bytesDown }
    lastAbort = outcome.aborted
    log('cohort %d aborted (%s); joining a fresh one', cohort, lastAbort)
  }
  throw new FedrecError(
    'secagg_aborted',
    `secure aggregation did not complete in time (last: ${lastAbort}); nothing was counted`,
  )

  /** Follows one cohort to its end: 'done' with this input in the sum, or why it aborted. */
  async function takePart(
    client: SecAggClient,
    cohort: number,
    token: string,
  ): Promise<'done' | { aborted: string }> {
    const member = `v1/secagg/cohorts/${cohort}`
    const auth = { authorization: `Bearer ${token}` }
    // Each protocol step runs once; a post that failed is resent with the same body (the server takes a
    // repeat as a duplicate), never recomputed.
    let shares: unknown
    let masked: Uint8Array<ArrayBuffer> | undefined
    let reveal: unknown
    while (timeLeft()) {
      let view: SecAggView
      try {
        view = parseSecAggView(await call(`${member}/me`, { headers: auth }))
      } catch (err) {
        // An aggregator restarting mid-phase resumes the cohort: keep polling while there is time.
        if (err instanceof FedrecError && err.code === 'network') {
          await sleep(pollMs)
          continue
        }
        throw err
      }
      try {
        switch (view.phase) {
          case 'advertise':
            break
          case 'share':
            if (!view.shared && view.roster) {
              if (shares === undefined) {
                const message = await client.shareKeys({
                  type: 'roster',
                  sessionId: view.sessionId,
                  threshold: view.threshold,
                  clients: view.roster,
                })
                shares = { seedCommitment: message.seedCommitment, shares: message.shares }
              }
              parseSecAggAck(await postJson(`${member}/shares`, shares, token))
              continue
            }
            break
          case 'mask':
            if (view.shared && !view.uploaded && view.inbox) {
              if (masked === undefined) {
                const inbox = {
                  type: 'share-inbox' as const,
                  sessionId: view.sessionId,
                  to: view.id,
                  shares: view.inbox,
                }
                masked = encodeMaskedInput((await client.maskInput(inbox, vector)).masked)
              }
              const body = masked
              parseSecAggAck(
                await call(`${member}/masked`, {
                  method: 'POST',
                  headers: { 'content-type': SECAGG_MASKED_MEDIA_TYPE, ...auth },
                  body,
                }),
              )
              continue
            }
            if (!view.shared) return { aborted: 'this device was not in the cohort when it started sharing' }
            break
          case 'unmask':
            if (view.uploaded && !view.unmasked && view.survivors && view.dropped && reveal !== null) {
              if (reveal === undefined) {
                const response = await client.unmask({
                  type: 'unmask-request',
                  sessionId: view.sessionId,
                  survivors: view.survivors,
                  dropped: view.dropped,
                })
                reveal = { selfMaskShares: response.selfMaskShares, keyShares: response.keyShares }
              }
              try {
                parseSecAggAck(await postJson(`${member}/unmask`, reveal, token))
              } catch (err) {
                // It had the t shares it needs already: ours are not needed, the sum is being unmasked.
                if (err instanceof RejectedError && err.reason === 'wrong_phase') reveal = null
                else throw err
              }
              continue
            }
            if (!view.uploaded) return { aborted: 'the masked input of this device arrived too late' }
            break
          case 'done':
            if (view.uploaded) return 'done'
            return { aborted: 'the cohort completed without the masked input of this device' }
          case 'aborted':
            return { aborted: view.abortReason ?? 'aborted' }
          default: {
            const never: never = view.phase
            throw new Error(`unknown phase ${String(never)}`)
          }
        }
      } catch (err) {
        // The cohort moved on between the view and the post (e.g. it had its t unmask shares already):
        // look again.
        if (err instanceof RejectedError && ['wrong_phase', 'cohort_ended'].includes(err.reason)) continue
        throw err
      }
      await sleep(pollMs)
    }
    return { aborted: 'timed out' }
  }
}

/**
 * QA hook for the e2e suite (e2e/scenarios/secagg.spec.ts): when a test has planted an array at
 * `globalThis.__fedrecSecAggQa` in the worker, each plain contribution is pushed there, so the test can
 * check the published model against a plain aggregation and look for the plain delta on the wire. It stays
 * in this worker's memory, is never sent, and without the planted array nothing is kept.
 */
function recordForQa(
  round: number,
  sampleCount: number,
  deltas: readonly TensorDelta[],
  vector: Uint32Array,
): void {
  const slot: unknown = (globalThis as { __fedrecSecAggQa?: unknown }).__fedrecSecAggQa
  if (!Array.isArray(slot)) return
  slot.push({
    round,
    sampleCount,
    deltas: deltas.map((d) => ({ name: d.name, cols: d.cols, rowIds: [...d.rowIds], values: [...d.values] })),
    vector: [...vector],
  })
}
