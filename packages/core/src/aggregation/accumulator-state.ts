// The accumulator's state: its options, the per-tensor running sums and the round's counters, in one object.
import type {
  AccumulatorOptions,
  DpAggregation,
  RowFloor,
  RowNormalization,
  TensorShape,
} from './accumulator-types.ts'
import { AggregationError } from './errors.ts'

/** @internal One tensor's running sums. */
export interface TensorSums {
  readonly shape: TensorShape
  /** Σ n_k·Δ_k, row-major rows*cols. */
  readonly weighted: Float64Array
  /** Σ n_k of the clients that touched each row; only for 'touched'. */
  readonly rowWeights: Float64Array | undefined
  /** The {@link RowFloor}'s `clients` when it names this tensor, else 0. */
  readonly floorClients: number
}

/** Everything one accumulator holds; the buffers are allocated once and reused round after round. */
export interface AccumulatorState {
  readonly rowNormalization: RowNormalization
  readonly dp: DpAggregation | undefined
  readonly sums: ReadonlyMap<string, TensorSums>
  /** Updates added since creation or the last reset. */
  participants: number
  /** Σ n_k of those updates. */
  samples: number
  /** Updates scaled down to the DP clip norm. */
  clipped: number
}

/**
 * Checks the options and allocates zeroed sums for every tensor.
 * @example
 * const state = createAccumulatorState({ tensors: [{ name: 'item_bias', rows: 3, cols: 1 }] })
 */
export function createAccumulatorState(options: AccumulatorOptions): AccumulatorState {
  const rowNormalization = options.rowNormalization ?? 'all'
  if (rowNormalization !== 'all' && rowNormalization !== 'touched') {
    throw new AggregationError(
      'bad_option',
      `rowNormalization must be 'all' or 'touched', got ${String(rowNormalization)}`,
    )
  }
  const dp = options.dp
  if (dp !== undefined) checkDp(dp, rowNormalization)
  const rowFloor = options.rowFloor
  if (rowFloor !== undefined) checkRowFloor(rowFloor, rowNormalization, options.tensors)
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
      floorClients: rowFloor?.tensors.includes(shape.name) === true ? rowFloor.clients : 0,
    })
  }
  return { rowNormalization, dp, sums, participants: 0, samples: 0, clipped: 0 }
}

/** Zeroes the sums and counters for the next round, reusing the buffers. */
export function resetState(state: AccumulatorState): void {
  for (const { weighted, rowWeights } of state.sums.values()) {
    weighted.fill(0)
    rowWeights?.fill(0)
  }
  state.participants = 0
  state.samples = 0
  state.clipped = 0
}

/** A safe integer > 0: a sample count, a participant count, a tensor dimension. */
export function isPositiveInteger(x: number): boolean {
  return Number.isSafeInteger(x) && x > 0
}

function checkRowFloor(
  floor: RowFloor,
  rowNormalization: RowNormalization,
  tensors: readonly TensorShape[],
): void {
  if (rowNormalization !== 'touched') {
    throw new AggregationError('bad_option', "rowFloor needs rowNormalization 'touched'")
  }
  if (!(Number.isFinite(floor.clients) && floor.clients >= 0)) {
    throw new AggregationError(
      'bad_option',
      `rowFloor.clients must be a finite number ≥ 0, got ${String(floor.clients)}`,
    )
  }
  const unknown = floor.tensors.filter((name) => !tensors.some((t) => t.name === name))
  if (unknown.length > 0) {
    throw new AggregationError('bad_option', `rowFloor names unknown tensors: ${unknown.join(', ')}`)
  }
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
