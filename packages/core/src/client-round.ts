// One shopper's part in a federated round, from local events to the update it uploads: the entry point the
// browser's worker and the simulator share.
import type * as TF from '@tensorflow/tfjs-core'
import type { EventWeights } from './events.ts'
import { type ItemFeatures, itemTable } from './item-features.ts'
import type { LocalTrainingResult } from './local-training.ts'
import { clipDeltas } from './privacy/clip.ts'
import { createRng, type Rng } from './rng.ts'
import type { RowEvent } from './samples.ts'
import { buildSequenceSamples, DEFAULT_SEQUENCE, type SequenceSettings, sequenceQuery } from './sequence.ts'
import { trainSequence } from './train-sequence.ts'
import type { SharedWeights } from './weights.ts'

/**
 * The client settings every part of fedrec starts from — the aggregator's round config, the browser library
 * and the simulator — measured on MovieLens-100K, Online Retail and the REES46 clickstream
 * (docs/simulator.md, "What was tried").
 * @example createAggregator({ ...DEFAULT_CLIENT_SETTINGS, minClients: 100 })
 */
export const DEFAULT_CLIENT_SETTINGS = Object.freeze({
  mu: 0,
  localEpochs: 2,
  learningRate: 0.2,
  negativesPerPositive: 4,
  batchSize: 256,
  l2: 0,
  contextLength: DEFAULT_SEQUENCE.contextLength,
  recency: DEFAULT_SEQUENCE.recency,
  privateVector: false,
  maxTargets: 64,
})

/** The round settings a client trains with (the fields of the aggregator's `RoundConfig` that training uses). */
export interface ClientRoundConfig {
  mu: number
  localEpochs: number
  learningRate: number
  negativesPerPositive: number
  batchSize: number
  /** Row padding: pseudo-items per real item (0 or absent: none); see `buildSequenceSamples`. */
  padRatio?: number
  /** DP-FedAvg: the L2 norm the uploaded deltas are clipped to (absent: no clipping); see `clipDeltas`. */
  clipNorm?: number
  /** L2 on the trained embedding rows (absent: `DEFAULT_CLIENT_SETTINGS.l2`). */
  l2?: number
  /** The recent-item window of the shopper's state (absent: `DEFAULT_SEQUENCE`); see `SequenceSettings`. */
  contextLength?: number
  recency?: number
  /** Keep and train a private per-device vector added to the shopper's state (absent: false). */
  privateVector?: boolean
  /** At most this many next-item examples a round, drawn at random (absent: `DEFAULT_CLIENT_SETTINGS`). */
  maxTargets?: number
  /**
   * With item features: sampled negatives train the feature rows only, not their own id rows and biases
   * (`SequenceTrainingOptions.negativesOnFeatures`; absent: false, the plain BPR gradient).
   */
  negativesOnFeatures?: boolean
}

export interface ClientRoundOptions {
  /** The global model of the round; not modified. */
  weights: SharedWeights
  /**
   * The shopper's private vector as stored on the device (`initUserVector` for a new shopper); trained only
   * when the config keeps one (`privateVector`), returned unchanged otherwise.
   */
  userVector: Float32Array
  /** The shopper's history, already mapped to model rows. */
  events: readonly RowEvent[]
  config: ClientRoundConfig
  /** Draws the negatives and shuffles the pairs. */
  rng: Rng
  eventWeights?: EventWeights
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
  /**
   * The catalogue's item features (`featureRows`), when the model has a feature table: items are their id
   * row plus their pooled features, and the feature rows of the shopper's slice train and upload along.
   */
  itemFeatures?: ItemFeatures
}

export interface ClientRoundResult {
  /** What the round uploads: the deltas of the touched shared rows and n_k (plus the loss, for reports). */
  result: LocalTrainingResult
  /** The private vector to store (the one passed in when the config keeps none). */
  userVector: Float32Array
  /** Row padding's pseudo-items of this round (empty without padding): store them for the next round. */
  pseudoItems: number[]
}

/**
 * One client's whole local round, platform-free: next-item examples from the shopper's ordered history
 * (`buildSequenceSamples`), then `trainSequence` on the touched slice of the shared item table
 * (FedAvg/FedProx). The shopper's state is not a trained per-user vector but the pooled embeddings of their
 * recent items (`sequenceQuery`), so a shopper with one session is served as well as one with a year of
 * history, and the device recommends with the global rows as soon as a model arrives. The browser's worker
 * and the Node simulator both run exactly this.
 * Throws `ModelError` for bad input or a diverging run.
 * @example
 * const { result, userVector } = await trainClientRound(tf, { weights, userVector, events, config: info.config, rng })
 * upload({ sampleCount: result.sampleCount, tensors: result.deltas }); store(userVector)
 */
export async function trainClientRound(
  tf: typeof TF,
  options: ClientRoundOptions,
): Promise<ClientRoundResult> {
  const { weights, userVector, events, config, rng, eventWeights, padSeed, padPrior, pseudoItems } = options
  const { itemFeatures } = options
  const padding = config.padRatio ?? 0
  const settings = sequenceSettingsOf(config)
  const keepVector = config.privateVector === true
  const samples = buildSequenceSamples(events, {
    numItems: weights.numItems,
    negativesPerTarget: config.negativesPerPositive,
    rng,
    settings,
    maxTargets: config.maxTargets ?? DEFAULT_CLIENT_SETTINGS.maxTargets,
    ...(eventWeights ? { eventWeights } : {}),
    ...(padding > 0 ? { padRatio: padding } : {}),
    ...(padSeed === undefined ? {} : { padRng: createRng(padSeed) }),
    ...(padding > 0 && padPrior !== 'uniform'
      ? {
          padScores: modelScores(
            itemTable(weights, itemFeatures),
            weights.numItems,
            sequenceQuery(weights, events, {
              settings,
              ...(eventWeights ? { eventWeights } : {}),
              ...(keepVector ? { privateVector: userVector } : {}),
              ...(itemFeatures ? { itemFeatures } : {}),
            }),
          ),
        }
      : {}),
    ...(pseudoItems ? { padPrevious: pseudoItems } : {}),
  })
  const result = await trainSequence(tf, {
    weights,
    samples,
    epochs: config.localEpochs,
    learningRate: config.learningRate,
    batchSize: config.batchSize,
    rng,
    l2: config.l2 ?? DEFAULT_CLIENT_SETTINGS.l2,
    mu: config.mu,
    ...(keepVector ? { privateVector: userVector } : {}),
    ...(itemFeatures ? { itemFeatures } : {}),
    negativesOnFeatures: config.negativesOnFeatures === true,
  })
  // DP-FedAvg clips on the device too, so an honest client's update is already what the server counts.
  const upload =
    config.clipNorm === undefined
      ? result
      : { ...result, deltas: [...clipDeltas(result.deltas, config.clipNorm).deltas] }
  return { result: upload, userVector: result.userVector, pseudoItems: samples.pseudoItems }
}

/** The sequence settings of a round config, core's defaults for what it leaves out. */
export function sequenceSettingsOf(
  config: Pick<ClientRoundConfig, 'contextLength' | 'recency'>,
): SequenceSettings {
  return {
    contextLength: config.contextLength ?? DEFAULT_SEQUENCE.contextLength,
    recency: config.recency ?? DEFAULT_SEQUENCE.recency,
  }
}

/** u·e_i + b_i for the first `numItems` rows, in plain JS (numItems × dim multiply-adds: a few ms for 50,000 items). */
function modelScores(weights: SharedWeights, numItems: number, user: Float32Array): Float32Array {
  const { dim, itemEmbedding, itemBias } = weights
  const scores = new Float32Array(numItems)
  for (let row = 0; row < numItems; row++) {
    let s = itemBias[row]!
    const base = row * dim
    for (let c = 0; c < dim; c++) s += user[c]! * itemEmbedding[base + c]!
    scores[row] = s
  }
  return scores
}
