// The public shapes of the streaming FedAvg accumulator: its options, its interface, an aggregate sum.
import type { TensorDelta } from '@fedrec/protocol'
import type { RandomWords } from '../privacy/gaussian-noise.ts'

/**
 * How a row's summed delta is divided.
 * - `'all'`: by Σ n_k over every client of the round. A client that did not touch a row counts as a zero
 *   delta for it, which is exactly the seed formula w_{t+1} = Σ_k (n_k / n) w^k_{t+1}.
 * - `'touched'`: by Σ n_k over the clients that sent the row, so a rarely seen item is not shrunk towards
 *   zero by everyone who never saw it; rows nobody touched stay 0.
 * @example
 * const acc = createAccumulator({ tensors, rowNormalization: 'touched' })
 */
export type RowNormalization = 'all' | 'touched'

/**
 * A lower bound on a row's divisor under `'touched'`, for the named tensors: a row is divided by the weight
 * of the clients that touched it, but by no less than `clients` times the round's mean client weight
 * (Σ n_k / participants). A row one or two shoppers touched then moves by a share of their delta instead of
 * all of it, while a row many touched is averaged over them as under `'touched'`. `clients: 0` is
 * `'touched'`; `clients` ≥ the round's participants is `'all'` for those tensors.
 * @example
 * const acc = createAccumulator({ tensors, rowNormalization: 'touched', rowFloor: { tensors: ['item_bias'], clients: 50 } })
 */
export interface RowFloor {
  /** The tensors it applies to (the others keep their normalisation). */
  tensors: readonly string[]
  /** A finite number ≥ 0 of mean clients. */
  clients: number
}

/**
 * The dense shape of one shared tensor of the global model.
 * @example
 * const shape: TensorShape = { name: 'item_embedding', rows: 5000, cols: 32 }
 */
export interface TensorShape {
  name: string
  rows: number
  cols: number
}

/**
 * DP-FedAvg's server side (McMahan et al. 2018, "Learning Differentially Private Recurrent Language
 * Models"): every update is clipped to L2 norm `clipNorm` (S) and weighted 1 (a weight n_k would let one
 * shopper's sample count scale its influence, so the sensitivity of the sum would not be S), and
 * `result()` adds N(0, σ²S²) to EVERY coordinate of the sum — rows nobody touched included, since which rows
 * were touched is itself what a shopper did — and divides by the fixed `denominator`, not by the number of
 * participants (a data-dependent divisor would leak it, and would change the sensitivity from round to round).
 * @example const dp: DpAggregation = { clipNorm: 0.5, noiseMultiplier: 1, denominator: 100 }
 */
export interface DpAggregation {
  /** S: largest L2 norm one update may have; larger ones are scaled down to it. */
  clipNorm: number
  /** σ: the noise standard deviation is σ·S on the sum. 0 clips and weights uniformly but adds no noise. */
  noiseMultiplier: number
  /** The fixed divisor of the noisy sum: the expected cohort size (the aggregator's quorum). */
  denominator: number
  /** The noise's random words (default WebCrypto); tests only. */
  random?: RandomWords
}

/**
 * Options of {@link createAccumulator}.
 * @example
 * const options: AccumulatorOptions = { tensors: [{ name: 'item_bias', rows: 5000, cols: 1 }] }
 */
export interface AccumulatorOptions {
  /** Every tensor a client may send; updates naming another tensor are refused. */
  tensors: readonly TensorShape[]
  /** Default `'all'` (the seed's FedAvg). */
  rowNormalization?: RowNormalization
  /** Needs `rowNormalization: 'touched'`. */
  rowFloor?: RowFloor
  /** DP-FedAvg: clip, weight 1, noise, fixed divisor. Needs `rowNormalization: 'all'`. */
  dp?: DpAggregation
}

/**
 * A streaming sample-weighted mean of client deltas. It holds Σ n_k·Δ_k per element (and, for `'touched'`,
 * Σ n_k per row) in Float64Arrays sized by the model, so memory does not grow with the number of clients.
 * @example
 * const acc = createAccumulator({ tensors: [{ name: 'item_bias', rows: 3, cols: 1 }] })
 * acc.add({ sampleCount: 1, tensors: [{ name: 'item_bias', cols: 1, rowIds: Uint32Array.of(0), values: Float32Array.of(4) }] })
 * acc.add({ sampleCount: 3, tensors: [{ name: 'item_bias', cols: 1, rowIds: Uint32Array.of(0), values: Float32Array.of(0) }] })
 * acc.result().get('item_bias') // Float32Array [1, 0, 0]
 */
export interface Accumulator {
  /**
   * Adds one client's sparse deltas weighted by its sample count. Throws {@link AggregationError} on an
   * unknown or repeated tensor, a cols or length mismatch, row ids not strictly ascending or out of range,
   * a non-finite value, or a sample count that is not a positive integer — before mutating anything.
   */
  add(update: { sampleCount: number; tensors: readonly TensorDelta[] }): void
  /**
   * Adds an aggregate of `participants` updates at once — Σ n_k·Δ_k dense per tensor (`weighted`,
   * rows·cols) and, for `'touched'`, Σ n_k of the clients that touched each row (`rowWeights`) — as secure
   * aggregation delivers it (`decodeSecAggSum`). Same checks as {@link Accumulator.add}, before mutating.
   * With `dp` the clients must have clipped and weighted themselves: the server never sees one update.
   */
  addSum(sum: AggregateSum): void
  /** How many updates were added since creation or the last {@link Accumulator.reset}. */
  readonly participants: number
  /** Σ n_k of the added updates. */
  readonly samples: number
  /** Updates scaled down to the DP clip norm (always 0 without `dp`). */
  readonly clipped: number
  /**
   * The weighted mean delta per tensor (dense, Float32Array rows*cols), normalised as
   * {@link RowNormalization} says. Fresh arrays on every call; throws `no_updates` when nothing was added.
   * With `dp`: (Σ clipped Δ_k + fresh Gaussian noise) / denominator, also with no update (the noise alone:
   * whether anybody took part is private too).
   */
  result(): Map<string, Float32Array>
  /** Zeroes the sums for the next round, reusing the buffers. */
  reset(): void
}

/**
 * An aggregate of many clients' updates, for {@link Accumulator.addSum}.
 * @example
 * const sum: AggregateSum = { participants: 2, samples: 7, tensors: [{ name: 'item_bias', weighted: Float64Array.of(3, 0), rowWeights: Float64Array.of(7, 0) }] }
 */
export interface AggregateSum {
  participants: number
  /** Σ n_k. */
  samples: number
  tensors: readonly { name: string; weighted: Float64Array; rowWeights?: Float64Array }[]
}
