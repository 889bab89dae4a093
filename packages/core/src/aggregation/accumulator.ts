import type { TensorDelta } from '@fedrec/protocol'
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
 * Options of {@link createAccumulator}.
 * @example
 * const options: AccumulatorOptions = { tensors: [{ name: 'item_bias', rows: 5000, cols: 1 }] }
 */
export interface AccumulatorOptions {
  /** Every tensor a client may send; updates naming another tensor are refused. */
  tensors: readonly TensorShape[]
  /** Default `'all'` (the seed's FedAvg). */
  rowNormalization?: RowNormalization
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
  /** How many updates were added since creation or the last {@link Accumulator.reset}. */
  readonly participants: number
  /** Σ n_k of the added updates. */
  readonly samples: number
  /**
   * The weighted mean delta per tensor (dense, Float32Array rows*cols), normalised as
   * {@link RowNormalization} says. Fresh arrays on every call; throws `no_updates` when nothing was added.
   */
  result(): Map<string, Float32Array>
  /** Zeroes the sums for the next round, reusing the buffers. */
  reset(): void
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

      for (const delta of update.tensors) {
        const target = sums.get(delta.name)!
        const { cols } = target.shape
        const { rowIds, values } = delta
        for (let i = 0; i < rowIds.length; i++) {
          const row = rowIds[i]!
          const dst = row * cols
          const src = i * cols
          for (let c = 0; c < cols; c++) target.weighted[dst + c]! += n * values[src + c]!
          if (target.rowWeights !== undefined) target.rowWeights[row]! += n
        }
      }
      participants += 1
      samples += n
    },

    get participants() {
      return participants
    },

    get samples() {
      return samples
    },

    result() {
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
    },
  }
  internals.set(accumulator, sums)
  return accumulator
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
