// One in-process federated round: the sampled shoppers' turns, the server step, and the round's record.
import { sequenceSettingsOf } from '@fedrec/core/client'
import { applyRound } from '@fedrec/core/server'
import type * as TF from '@tensorflow/tfjs-core'
import { evaluateShoppers } from './evaluate-shoppers.ts'
import { clientTurn, newRoundTally, type RoundTally } from './federated-client.ts'
import { type FederatedRun, finalWeights } from './federated-run.ts'
import type { Progress, RoundRecord } from './round-record.ts'
import { sampleClients } from './sample-clients.ts'
import { type SecureRoundStats, secureAggregateRound } from './secure-aggregation.ts'

/**
 * Round `round` (0-based) of the run: trains the sampled shoppers, aggregates and applies their updates,
 * accounts the privacy spent and evaluates every shopper against the new global model.
 * @example const record = await federatedRound(tf, run, 0, progress)
 */
export async function federatedRound(
  tf: typeof TF,
  run: FederatedRun,
  round: number,
  progress: Progress,
): Promise<RoundRecord> {
  const { options, pool, sampler } = run
  const started = performance.now()
  const tally = newRoundTally()
  for (const index of sampleClients(
    pool,
    options.clientsPerRound === 'all' ? pool.length : options.clientsPerRound,
    sampler,
  )) {
    await clientTurn(tf, run, tally, round, index)
    progress.client?.()
  }
  const secure = options.secureAggregation ? await secureRound(run, tally, round) : undefined
  const { participants, samples, updateNorm } = serverStep(run)
  run.trainSeconds += (performance.now() - started) / 1000
  const { test, validation } = evaluateShoppers(
    run.split,
    finalWeights(run),
    run.vectors,
    sequenceSettingsOf(run.config),
  )
  const record: RoundRecord = {
    round: round + 1,
    modelVersion: round + 1,
    participants,
    samples,
    loss: participants > 0 ? tally.lossSum / participants : 0,
    updateNorm,
    hr10: test.hr10,
    ndcg10: test.ndcg10,
    validation,
    seconds: (performance.now() - started) / 1000,
    bytesUp: participants > 0 ? tally.bytesUp / participants : 0,
    clientSeconds: participants > 0 ? tally.clientSeconds / participants : 0,
  }
  if (tally.norms.length > 0) record.clientNorm = quantiles(tally.norms)
  if (secure) {
    record.bytesUp = secure.bytesUp
    record.secureAggregation = secure
  }
  if (run.accountant) record.epsilon = run.accountant.epsilon(options.dpDelta ?? 1e-5)
  const attack = run.observer?.endRound()
  if (attack) record.attack = attack
  return record
}

/** --secure-aggregation: the masked uploads are summed and handed to the accumulator as one aggregate. */
async function secureRound(run: FederatedRun, tally: RoundTally, round: number): Promise<SecureRoundStats> {
  const { options, split, observer } = run
  const secure = await secureAggregateRound({
    round,
    seed: options.seed,
    numItems: run.numItems,
    dim: options.dim,
    numFeatures: run.weights.features?.rows,
    uploads: tally.secureUploads,
    accumulator: run.accumulator,
    dropout: options.secaggDropout ?? 0,
    model: run.weights,
    itemFeatures: run.itemFeatures,
    ...(observer
      ? {
          observe: (client, observed) => observer.observe(client, observed, split.users[client]!.trainRows),
        }
      : {}),
  })
  tally.clientSeconds += (secure.clientMs / 1000) * tally.secureUploads.length
  return secure
}

/** Applies the round's mean update through the server optimizer and composes the DP accountant. */
function serverStep(run: FederatedRun): { participants: number; samples: number; updateNorm: number } {
  const { accumulator, dp } = run
  const participants = accumulator.participants
  const samples = accumulator.samples
  let updateNorm = 0
  if (participants > 0 || dp) {
    ;({ updateNorm } = applyRound(run.params, accumulator.result(), run.optimizer, run.optimizerState))
    accumulator.reset()
  }
  // Every shopper of the pool is in the cohort with probability cohort / pool; a fixed-size draw is
  // accounted as if it were Poisson sampling at that rate (the usual approximation; exact at 'all', q = 1).
  if (dp)
    run.accountant?.compose({ sampleRate: run.cohort / run.shoppers, noiseMultiplier: dp.noiseMultiplier })
  return { participants, samples, updateNorm }
}

/** Median, 90th percentile (nearest rank) and maximum of a non-empty list. */
function quantiles(values: number[]): { median: number; p90: number; max: number } {
  const sorted = values.slice().sort((a, b) => a - b)
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
  return { median: at(0.5), p90: at(0.9), max: sorted[sorted.length - 1]! }
}
