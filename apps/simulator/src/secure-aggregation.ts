// Secure aggregation inside the simulation: the real protocol run in process, so its cost and its effect on
// the attacks can be measured without a network.
import {
  createRng,
  DEFAULT_SECAGG_QUANTIZATION,
  encodeSecAggVector,
  SecAggError,
  type SecAggTableLayout,
  type SharedWeights,
  secAggLayout,
} from '@fedrec/core/client'
import { type Accumulator, decodeSecAggSum, runSecAggCohort, secAggAggregate } from '@fedrec/core/server'
import {
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  type ItemFeatures,
  type TensorDelta,
} from '@fedrec/protocol'
import type { ObservedUpload } from './attack.ts'
import { mixSeed } from './seeds.ts'

/** Largest cohort the simulator runs the protocol on; a round with more participants is split evenly. */
export const SIM_SECAGG_MAX_COHORT = 100

/** One participant's plain result, which never leaves its "device" except masked. */
export interface SecureUpload {
  client: number
  /** The weight it is aggregated with: n_k, or 1 under DP. */
  weight: number
  deltas: readonly TensorDelta[]
}

/** Options of {@link secureAggregateRound}. */
export interface SecureRoundOptions {
  round: number
  seed: number
  numItems: number
  dim: number
  /** Rows of the model's feature table; absent for an id-only model. */
  numFeatures?: number
  uploads: readonly SecureUpload[]
  accumulator: Accumulator
  /** Probability that a participant drops out after sharing its keys; half of them before, half after upload. */
  dropout: number
  /** Sees every masked upload as the aggregator receives it (the attack benchmark). */
  observe?: (client: number, observed: ObservedUpload) => void
  /** The round's global model, handed to the observer as the aggregator knows it. */
  model?: SharedWeights
  /** The catalogue's item features, for the observer's feature-row attack. */
  itemFeatures?: ItemFeatures | undefined
}

/** What the secure aggregation of one round did and cost. */
export interface SecureRoundStats {
  cohorts: number
  /** Cohorts that failed (fewer survivors than the threshold): their updates are lost for the round. */
  aborted: number
  /** Participants whose update reached the sum. */
  aggregated: number
  droppedBeforeUpload: number
  droppedBeforeUnmask: number
  /** Mean bytes one participant sent over the four rounds (0 when nobody took part). */
  bytesUp: number
  /** Mean milliseconds of protocol work (keys, shares, masking, unmasking) per participant. */
  clientMs: number
  /** Server milliseconds for the whole round (all cohorts). */
  serverMs: number
  /** Quantised values that hit ±clip (should stay 0). */
  clipped: number
}

/**
 * Secure aggregation of one round in process: the participants are cut into cohorts of at most
 * {@link SIM_SECAGG_MAX_COHORT}, each runs the real Bonawitz protocol (core's client and server objects),
 * optional drop-outs are drawn from the seed, and only each cohort's unmasked sum reaches the accumulator.
 * The observer gets the masked vectors — all an aggregator sees of one shopper.
 * @example const stats = await secureAggregateRound({ round, seed, numItems, dim, uploads, accumulator, dropout: 0.1 })
 */
export async function secureAggregateRound(options: SecureRoundOptions): Promise<SecureRoundStats> {
  const { round, seed, numItems, dim, numFeatures, uploads, accumulator, dropout } = options
  const rng = createRng(mixSeed(seed, 0x5ec, round))
  const stats: SecureRoundStats = {
    cohorts: 0,
    aborted: 0,
    aggregated: 0,
    droppedBeforeUpload: 0,
    droppedBeforeUnmask: 0,
    bytesUp: 0,
    clientMs: 0,
    serverMs: 0,
    clipped: 0,
  }
  const count = Math.ceil(uploads.length / SIM_SECAGG_MAX_COHORT)
  let bytes = 0
  let clientMs = 0
  for (let c = 0; c < count; c++) {
    const members = uploads.filter((_, i) => i % count === c)
    const inputs = new Map<number, Uint32Array>()
    const clientOf = new Map<number, number>()
    const dropBeforeUpload = new Set<number>()
    const dropBeforeUnmask = new Set<number>()
    members.forEach((upload, i) => {
      const id = i + 1
      const { vector, clipped } = encodeSecAggVector({
        deltas: upload.deltas,
        weight: upload.weight,
        numItems,
        dim,
        numFeatures,
        rng: createRng(mixSeed(seed, 0x9e, round, upload.client)),
      })
      stats.clipped += clipped
      inputs.set(id, vector)
      clientOf.set(id, upload.client)
      if (rng.next() < dropout) (rng.next() < 0.5 ? dropBeforeUpload : dropBeforeUnmask).add(id)
    })
    stats.cohorts++
    try {
      const report = await runSecAggCohort({
        sessionId: `sim-s${seed}-r${round}-c${c}`,
        inputs,
        dropBeforeUpload,
        dropBeforeUnmask,
      })
      for (const [id, masked] of report.masked) {
        options.observe?.(clientOf.get(id)!, {
          numItems,
          tensors: maskedAsDeltas(masked, numItems, dim, numFeatures),
          ...(options.model ? { model: options.model } : {}),
          ...(options.itemFeatures ? { itemFeatures: options.itemFeatures } : {}),
        })
      }
      const decoded = decodeSecAggSum(report.result.sum, { numItems, dim, numFeatures })
      accumulator.addSum(secAggAggregate(decoded, report.result.survivors.length))
      stats.aggregated += report.result.survivors.length
      stats.droppedBeforeUpload += report.result.dropped.length
      stats.droppedBeforeUnmask += dropBeforeUnmask.size
      for (const b of report.bytesUp.values()) bytes += b
      for (const ms of report.clientMs.values()) clientMs += ms
      stats.serverMs += report.serverMs
    } catch (err) {
      // Too few survivors or too small a cohort: the protocol refuses to unmask, the cohort's updates are lost.
      if (!(err instanceof SecAggError)) throw err
      stats.aborted++
    }
  }
  if (uploads.length > 0) {
    stats.bytesUp = bytes / uploads.length
    stats.clientMs = clientMs / uploads.length
  }
  return stats
}

/**
 * A masked vector in the layout of a plain upload — every row present, values read as fixed point — so the
 * attacks run on exactly what the aggregator receives: the item rows, and with `numFeatures` the feature
 * rows too (core's `secAggLayout`).
 */
export function maskedAsDeltas(
  masked: Uint32Array,
  numItems: number,
  dim: number,
  numFeatures?: number,
): TensorDelta[] {
  const signed = new Int32Array(masked.buffer, masked.byteOffset, masked.length)
  const scale = DEFAULT_SECAGG_QUANTIZATION.scale
  const layout = secAggLayout(numItems, dim, numFeatures)
  /** One table's biases and embeddings, read where core's layout puts them. */
  const table = (t: SecAggTableLayout, biasName: string, embeddingName: string): TensorDelta[] => {
    const rowIds = Uint32Array.from({ length: t.rows }, (_, r) => r)
    const bias = Float32Array.from({ length: t.rows }, (_, r) => signed[t.bias + r]! / scale)
    const embedding = Float32Array.from({ length: t.rows * dim }, (_, i) => signed[t.embedding + i]! / scale)
    return [
      { name: biasName, cols: 1, rowIds, values: bias },
      { name: embeddingName, cols: dim, rowIds, values: embedding },
    ]
  }
  const items = table(layout.items, ITEM_BIAS, ITEM_EMBEDDING)
  if (!layout.features) return items
  return [...items, ...table(layout.features, FEATURE_BIAS, FEATURE_EMBEDDING)]
}
