/**
 * One client's part in a secure-aggregated round (Bonawitz et al. 2017, through @fedrec/core's client).
 * @module
 */
import { createSecAggClient, encodeSecAggVector, secAggVectorLength } from '@fedrec/core/client'
import {
  isRefusal,
  type Meter,
  newRandomId,
  RejectedError,
  type RoundInfo,
  type SecAggConfig,
  type SecAggRequests,
  type TensorDelta,
} from '@fedrec/protocol'
import createDebug from 'debug'
import { FedrecError } from '../../../errors.ts'
import { takePart } from './cohort.ts'
import { recordForQa } from './qa-hook.ts'

const log = createDebug('fedrec:browser:secagg')

/** Options of {@link secureSync}. */
export interface SecureSyncOptions {
  requests: SecAggRequests
  /** The round trained for. */
  info: RoundInfo
  /** Its `config.secureAggregation`. */
  config: SecAggConfig
  clientId: string
  /** The plain deltas and n_k of this round: they never leave this function unmasked. */
  deltas: readonly TensorDelta[]
  /**
   * Rows of the model's feature table (the downloaded model's); absent for an id-only model. The round info
   * does not carry it, and every member of a cohort must lay its vector out alike.
   */
  numFeatures?: number
  sampleCount: number
  /** Counts the request bodies sent and the answers received. */
  meter: Meter
  /** Give up (and count nothing) after this long; default six phase timeouts. */
  timeoutMs?: number
  /** Pause between polls of the cohort. */
  pollMs?: number
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Joins the forming cohort with fresh keys, shares its secrets, uploads its masked vector and answers the
 * unmasking request, polling `GET …/me` between phases. Resolves with the cohort once it is done with this
 * client's input in the sum. A cohort that aborts is left for a fresh one (fresh keys, fresh masks) until
 * `timeoutMs`; then it rejects with `secagg_aborted`. A round that moved on rejects with a RejectedError
 * `stale_round` (retrain). The secrets live in this call only: a closed tab is a drop-out.
 * @example const cohort = await secureSync({ requests: client.secagg, info, config, clientId, deltas, sampleCount, meter })
 */
export async function secureSync(options: SecureSyncOptions): Promise<number> {
  const { requests, info, config, deltas, sampleCount, numFeatures, meter } = options
  const until = performance.now() + (options.timeoutMs ?? config.phaseTimeoutSeconds * 6000)
  const pollMs = options.pollMs ?? 250
  const vectorLength = secAggVectorLength(info.numItems, info.dim, numFeatures)
  const { vector } = encodeSecAggVector({
    deltas,
    weight: sampleCount,
    numItems: info.numItems,
    dim: info.dim,
    numFeatures,
  })
  recordForQa(info.round, sampleCount, deltas, vector)
  const timeLeft = (): boolean => performance.now() < until

  let lastAbort = 'no cohort formed'
  while (timeLeft()) {
    // Join the cohort forming now, for the round this device trained for.
    const state = await requests.state(meter)
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
      const ack = await requests.join(
        {
          round: info.round,
          modelVersion: info.modelVersion,
          cohort: state.cohort,
          clientId: options.clientId,
          id,
          token,
          cPublicKey: keys.cPublicKey,
          sPublicKey: keys.sPublicKey,
        },
        meter,
      )
      cohort = ack.cohort
    } catch (err) {
      // Another member drew the same id, or the cohort started meanwhile: try the next one.
      if (isRefusal(err, ['id_taken', 'cohort_not_forming'])) continue
      throw err
    }
    log('joined cohort %d as %d', cohort, id)
    const outcome = await takePart({ requests, client, cohort, token, vector, meter, timeLeft, pollMs })
    if (outcome === 'done') return cohort
    lastAbort = outcome.aborted
    log('cohort %d aborted (%s); joining a fresh one', cohort, lastAbort)
  }
  throw new FedrecError(
    'secagg_aborted',
    `secure aggregation did not complete in time (last: ${lastAbort}); nothing was counted`,
  )
}
