import type * as TF from '@tensorflow/tfjs-core'
import type { EventWeights } from './events.ts'
import type { LossKind } from './objective.ts'
import type { Rng } from './rng.ts'
import { buildSamples, type RowEvent } from './samples.ts'
import { type LocalTrainingResult, trainLocal } from './train-local.ts'
import type { SharedWeights } from './weights.ts'

/** The round settings a client trains with (the fields of the aggregator's `RoundConfig` that training uses). */
export interface ClientRoundConfig {
  mu: number
  localEpochs: number
  learningRate: number
  negativesPerPositive: number
  batchSize: number
}

export interface ClientRoundOptions {
  /** The global model of the round; not modified. */
  weights: SharedWeights
  /** The shopper's private vector as stored on the device (`initUserVector` for a new shopper). */
  userVector: Float32Array
  /** The shopper's history, already mapped to model rows. */
  events: readonly RowEvent[]
  config: ClientRoundConfig
  /** Draws the negatives and shuffles the pairs. */
  rng: Rng
  eventWeights?: EventWeights
  loss?: LossKind
}

export interface ClientRoundResult {
  /** What the round uploads: the deltas of the touched shared rows and n_k (plus the loss, for reports). */
  result: LocalTrainingResult
  /** The private vector to store: refitted to the *global* rows after training (see below). */
  userVector: Float32Array
}

/**
 * One client's whole local round, platform-free: samples from the history, trains the user vector and the
 * touched slice of the shared rows (FedAvg/FedProx), then refits the user vector alone against the global
 * rows held fixed — Federated Reconstruction's local step (Singhal et al. 2021): the trained rows only
 * leave as the update, and until the aggregate comes back the device scores with the global rows. The
 * browser's worker and the Node simulator both run exactly this.
 * Throws `ModelError` for bad input or a diverging run.
 * @example
 * const { result, userVector } = await trainClientRound(tf, { weights, userVector, events, config: info.config, rng })
 * upload({ sampleCount: result.sampleCount, tensors: result.deltas }); store(userVector)
 */
export async function trainClientRound(
  tf: typeof TF,
  options: ClientRoundOptions,
): Promise<ClientRoundResult> {
  const { weights, userVector, events, config, rng, eventWeights, loss } = options
  const samples = buildSamples(events, {
    numItems: weights.numItems,
    negativesPerPositive: config.negativesPerPositive,
    rng,
    ...(eventWeights ? { eventWeights } : {}),
  })
  const common = {
    weights,
    samples,
    epochs: config.localEpochs,
    learningRate: config.learningRate,
    batchSize: config.batchSize,
    rng,
    ...(loss ? { loss } : {}),
  }
  const result = await trainLocal(tf, { ...common, userVector, mu: config.mu })
  const refit = await trainLocal(tf, { ...common, userVector: result.userVector, trainShared: false })
  return { result, userVector: refit.userVector }
}
