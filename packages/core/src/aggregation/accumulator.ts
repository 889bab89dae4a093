import type { TensorDelta } from '@fedrec/protocol'
import { addGaussianNoise, type RandomWords } from '../privacy/gaussian-noise.ts'
import { AggregationError } from './errors.ts'

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

/** @internal One tensor's running sums. */
export interface TensorSums {
  readonly shape: TensorShape
  /** Σ n_k·Δ_k, row-major rows*cols. */
  readonly weighted: Float64Array
  /** Σ n_k of the clients that touched each row; only for 'touched'. */
  readonly rowWeights: Float64Array | undefined
}

// Lets the tests check that the buffers are allocated once, without widening the public interface.
const internals = new WeakMap<Accumulator, ReadonlyMap<string, TensorSums>>()

/** @internal The accumulator's own buffers, for tests that assert memory does not grow. */
export function accumulatorBuffers(acc: Accumulator): ReadonlyMap<string, TensorSums> | undefined {
  return internals.get(acc)
}

/**
 * Creates a streaming FedAvg accumulator for the given tensor shapes.
 * @example
 * const acc = createAccumulator({ tensors: [{ name: 'item_embedding', rows: 5000, cols: 32 }] })
 * for (const update of round) acc.add(update)
 * const meanDelta = acc.result()
 */
export function createAccumulator(options: AccumulatorOptions): Accumulator {
  const rowNormalization = options.rowNormalization ?? 'all'
  if (rowNormalization !== 'all' && rowNormalization !== 'touched') {
    throw new AggregationError(
      'bad_option',
      `rowNormalization must be 'all' or 'touched', got ${String(rowNormalization)}`,
    )
  }
  const dp = options.dp
  if (dp !== undefined) checkDp(dp, rowNormalization)
  const sums = new Map<string, TensorSums>()
  for (const shape of options.tensors) {
    if (sums.has(shape.name)) {
      throw new AggregationError('duplicate_tensor', `tensor "${shape.name}" is listed twice`)
    }
    if (!isPositiveInteger(shape.rows) || !isPositiveInteger(shape.cols)) {
      throw new AggregationError(
        'bad_option',
        `tensor "${shape.name}" needs positive integer rows and cols, got ${shape.rows}x${shape.cols}`,
      )
    }
    sums.set(shape.name, {
      shape: { name: shape.name, rows: shape.rows, cols: shape.cols },
      weighted: new Float64Array(shape.rows * shape.cols),
      rowWeights: rowNormalization === 'touched' ? new Float64Array(shape.rows) : undefined,
    })
  }

  let participants = 0
  let samples = 0
  let clipped = 0

  const accumulator: Accumulator = {
    add(update) {
      // Validate the whole update first: a half-applied update would silently corrupt the round.
      const n = update.sampleCount
      if (!isPositiveInteger(n)) {
        throw new AggregationError('bad_sample_count', `sampleCount must be a positive integer, got ${n}`)
      }
      const seen = new Set<string>()
      for (const delta of update.tensors) {
        if (seen.has(delta.name)) {
          throw new AggregationError('duplicate_tensor', `tensor "${delta.name}" appears twice in one update`)
        }
        seen.add(delta.name)
        const target = sums.get(delta.name)
        if (target === undefined) {
          throw new AggregationError('unknown_tensor', `unknown tensor "${delta.name}"`)
        }
        checkDelta(delta, target.shape)
      }

      // Under DP each update weighs 1, scaled (in float64) so that its norm is at most S.
      let weight = n
      if (dp !== undefined) {
        let squares = 0
        for (const delta of update.tensors) for (const v of delta.values) squares += v * v
        const norm = Math.sqrt(squares)
        weight = norm > dp.clipNorm ? dp.clipNorm / norm : 1
        if (norm > dp.clipNorm) clipped += 1
      }
      for (const delta of update.tensors) {
        const target = sums.get(delta.name)!
        const { cols } = target.shape
        const { rowIds, values } = delta
        for (let i = 0; i < rowIds.length; i++) {
          const row = rowIds[i]!
          const dst = row * cols
          const src = i * cols
          for (let c = 0; c < cols; c++) target.weighted[dst + c]! += weight * values[src + c]!
          if (target.rowWeights !== undefined) target.rowWeights[row]! += n
        }
      }
      participants += 1
      samples += n
    },

    addSum(sum) {
      if (!isPositiveInteger(sum.participants)) {
        throw new AggregationError(
          'bad_sample_count',
          `participants must be a positive integer, got ${sum.participants}`,
        )
      }
      if (!(Number.isFinite(sum.samples) && sum.samples > 0)) {
        throw new AggregationError(
          'bad_sample_count',
          `samples must be a positive number, got ${sum.samples}`,
        )
      }
      const seen = new Set<string>()
      for (const t of sum.tensors) {
        const target = sums.get(t.name)
        if (target === undefined) throw new AggregationError('unknown_tensor', `unknown tensor "${t.name}"`)
        if (seen.has(t.name))
          throw new AggregationError('duplicate_tensor', `tensor "${t.name}" appears twice`)
        seen.add(t.name)
        const { rows, cols } = target.shape
        if (
          t.weighted.length !== rows * cols ||
          (t.rowWeights !== undefined && t.rowWeights.length !== rows)
        ) {
          throw new AggregationError(
            'shape_mismatch',
            `tensor "${t.name}" needs ${rows}x${cols} sums and ${rows} row weights`,
          )
        }
        if (target.rowWeights !== undefined && t.rowWeights === undefined) {
          throw new AggregationError(
            'shape_mismatch',
            `'touched' normalisation needs rowWeights for "${t.name}"`,
          )
        }
        for (const v of t.weighted) {
          if (!Number.isFinite(v))
            throw new AggregationError('non_finite', `tensor "${t.name}" has a non-finite sum`)
        }
      }
      for (const t of sum.tensors) {
        const target = sums.get(t.name)!
        for (let i = 0; i < t.weighted.length; i++) target.weighted[i]! += t.weighted[i]!
        if (target.rowWeights !== undefined) {
          for (let r = 0; r < target.rowWeights.length; r++) target.rowWeights[r]! += t.rowWeights![r]!
        }
      }
      participants += sum.participants
      samples += sum.samples
    },

    get participants() {
      return participants
    },

    get samples() {
      return samples
    },

    get clipped() {
      return clipped
    },

    result() {
      if (dp !== undefined) return noisyMean(sums, dp)
      if (participants === 0) {
        throw new AggregationError('no_updates', 'no update was added, the mean delta is undefined')
      }
      const out = new Map<string, Float32Array>()
      for (const [name, { shape, weighted, rowWeights }] of sums) {
        const mean = new Float32Array(weighted.length)
        if (rowWeights === undefined) {
          for (let i = 0; i < weighted.length; i++) mean[i] = weighted[i]! / samples
        } else {
          for (let r = 0; r < shape.rows; r++) {
            const w = rowWeights[r]!
            if (w === 0) continue
            const base = r * shape.cols
            for (let c = 0; c < shape.cols; c++) mean[base + c] = weighted[base + c]! / w
          }
        }
        out.set(name, mean)
      }
      return out
    },

    reset() {
      for (const { weighted, rowWeights } of sums.values()) {
        weighted.fill(0)
        rowWeights?.fill(0)
      }
      participants = 0
      samples = 0
      clipped = 0
    },
  }
  internals.set(accumulator, sums)
  return accumulator
}

function checkDp(dp: DpAggregation, rowNormalization: RowNormalization): void {
  if (rowNormalization !== 'all') {
    // 'touched' divides a row by who touched it: a data-dependent divisor per row, so neither the sum's
    // sensitivity nor the noise's scale would be what the accountant assumes.
    throw new AggregationError('bad_option', "DP aggregation needs rowNormalization 'all'")
  }
  const positive = (x: number) => Number.isFinite(x) && x > 0
  if (!positive(dp.clipNorm))
    throw new AggregationError('bad_option', `dp.clipNorm must be a finite number > 0, got ${dp.clipNorm}`)
  if (!(Number.isFinite(dp.noiseMultiplier) && dp.noiseMultiplier >= 0))
    throw new AggregationError(
      'bad_option',
      `dp.noiseMultiplier must be a finite number ≥ 0, got ${dp.noiseMultiplier}`,
    )
  if (!positive(dp.denominator))
    throw new AggregationError('bad_option', `dp.denominator must be a number > 0, got ${dp.denominator}`)
}

/** (Σ clipped Δ_k + N(0, σ²S²)) / denominator for every coordinate of every tensor; the sums stay as they are. */
function noisyMean(sums: ReadonlyMap<string, TensorSums>, dp: DpAggregation): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>()
  for (const [name, { weighted }] of sums) {
    const noisy = weighted.slice()
    addGaussianNoise(noisy, dp.noiseMultiplier * dp.clipNorm, dp.random)
    const mean = new Float32Array(noisy.length)
    for (let i = 0; i < noisy.length; i++) mean[i] = noisy[i]! / dp.denominator
    out.set(name, mean)
  }
  return out
}

function checkDelta(delta: TensorDelta, shape: TensorShape): void {
  const { name, cols, rowIds, values } = delta
  if (cols !== shape.cols) {
    throw new AggregationError(
      'shape_mismatch',
      `tensor "${name}" has ${shape.cols} cols, the update says ${cols}`,
    )
  }
  if (values.length !== rowIds.length * cols) {
    throw new AggregationError(
      'shape_mismatch',
      `tensor "${name}": ${rowIds.length} rows x ${cols} cols needs ${rowIds.length * cols} values, got ${values.length}`,
    )
  }
  let previous = -1
  for (let i = 0; i < rowIds.length; i++) {
    const row = rowIds[i]!
    if (row <= previous) {
      throw new AggregationError(
        'bad_row_ids',
        `tensor "${name}": row ids must be strictly ascending, got ${row} after ${previous} at index ${i}`,
      )
    }
    if (row >= shape.rows) {
      throw new AggregationError(
        'row_out_of_range',
        `tensor "${name}" has ${shape.rows} rows, got row id ${row} at index ${i}`,
      )
    }
    previous = row
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (!Number.isFinite(v)) {
      throw new AggregationError('non_finite', `tensor "${name}": value ${v} at index ${i} is not finite`)
    }
  }
}

function isPositiveInteger(x: number): boolean {
  return Number.isSafeInteger(x) && x > 0
}
