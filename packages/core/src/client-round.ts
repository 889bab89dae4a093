import type * as TF from '@tensorflow/tfjs-core'
import type { EventWeights } from './events.ts'
import type { LossKind } from './objective.ts'
import { clipDeltas } from './privacy/clip.ts'
import { createRng, type Rng } from './rng.ts'
import { buildSamples, type RowEvent, type TrainingSamples } from './samples.ts'
import { type LocalTrainingResult, trainLocal } from './train-local.ts'
import type { SharedWeights } from './weights.ts'

/** The round settings a client trains with (the fields of the aggregator's `RoundConfig` that training uses). */
export interface ClientRoundConfig {
  mu: number
  localEpochs: number
  learningRate: number
  negativesPerPositive: number
  batchSize: number
  /** Row padding: pseudo-items per real item (0 or absent: none); see `buildSamples`. */
  padRatio?: number
  /** DP-FedAvg: the L2 norm the uploaded deltas are clipped to (absent: no clipping); see `clipDeltas`. */
  clipNorm?: number
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
  /**
   * A secret seed kept on the device for row padding: the same seed every round gives the same pseudo-items
   * every round (an aggregator linking the rounds of one client id cannot intersect them away). Absent: the
   * pseudo-items are drawn from `rng`, anew each round.
   */
  padSeed?: number
  /**
   * How pseudo-items are drawn: 'model' (default) from the global model's prediction for this shopper,
   * 'uniform' from the whole untouched catalogue (easier to tell apart and costlier; kept for measurements).
   */
  padPrior?: 'model' | 'uniform'
  /**
   * The pseudo-items of this device's previous round (`ClientRoundResult.pseudoItems`), kept on the device:
   * they are kept first, so linking a client's rounds does not single out its real items.
   */
  pseudoItems?: readonly number[]
}

export interface ClientRoundResult {
  /** What the round uploads: the deltas of the touched shared rows and n_k (plus the loss, for reports). */
  result: LocalTrainingResult
  /** The private vector to store: refitted to the *global* rows after training (see below). */
  userVector: Float32Array
  /** Row padding's pseudo-items of this round (empty without padding): store them for the next round. */
  pseudoItems: number[]
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
  const { weights, userVector, events, config, rng, eventWeights, loss, padSeed, padPrior, pseudoItems } =
    options
  const padding = config.padRatio ?? 0
  const samples = buildSamples(events, {
    numItems: weights.numItems,
    negativesPerPositive: config.negativesPerPositive,
    rng,
    ...(eventWeights ? { eventWeights } : {}),
    ...(padding > 0 ? { padRatio: padding } : {}),
    ...(padSeed === undefined ? {} : { padRng: createRng(padSeed) }),
    ...(padding > 0 && padPrior !== 'uniform' ? { padScores: modelScores(weights, userVector) } : {}),
    ...(pseudoItems ? { padPrevious: pseudoItems } : {}),
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
  // The private vector is refitted to the real pairs only: pseudo-items are there for the upload's sake, and
  // the shopper's own recommendations should not drift towards them.
  const refit = await trainLocal(tf, {
    ...common,
    samples: realPairs(samples),
    userVector: result.userVector,
    trainShared: false,
  })
  // DP-FedAvg clips on the device too, so an honest client's update is already what the server counts.
  const upload =
    config.clipNorm === undefined
      ? result
      : { ...result, deltas: [...clipDeltas(result.deltas, config.clipNorm).deltas] }
  return { result: upload, userVector: refit.userVector, pseudoItems: samples.pseudoItems ?? [] }
}

/** u·e_i + b_i for every row, in plain JS (numItems × dim multiply-adds: a few ms for 50,000 items). */
function modelScores(weights: SharedWeights, user: Float32Array): Float32Array {
  const { numItems, dim, itemEmbedding, itemBias } = weights
  const scores = new Float32Array(numItems)
  for (let row = 0; row < numItems; row++) {
    let s = itemBias[row]!
    const base = row * dim
    for (let c = 0; c < dim; c++) s += user[c]! * itemEmbedding[base + c]!
    scores[row] = s
  }
  return scores
}

function realPairs(samples: TrainingSamples): TrainingSamples {
  const { realCount } = samples
  if (realCount === undefined) return samples
  return {
    positives: samples.positives.subarray(0, realCount),
    negatives: samples.negatives.subarray(0, realCount),
    weights: samples.weights.subarray(0, realCount),
    count: realCount,
  }
}
