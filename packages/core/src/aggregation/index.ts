/**
 * Aggregation maths of fedrec: a streaming, sample-weighted FedAvg accumulator of sparse client deltas and
 * the server optimizers of Reddi et al. (2021). Pure TypeScript on typed arrays: no tfjs, no DOM, no Node.
 * @example
 * const acc = createAccumulator({ tensors: [{ name: 'item_embedding', rows: 5000, cols: 32 }] })
 * for (const update of updates) acc.add(update)
 * applyRound(params, acc.result(), createServerOptimizer({ name: 'fedadam' }), optimizerState)
 * @module
 */

export { createAccumulator } from './accumulator.ts'
export type {
  Accumulator,
  AccumulatorOptions,
  AggregateSum,
  DpAggregation,
  RowFloor,
  RowNormalization,
  TensorShape,
} from './accumulator-types.ts'
export { applyRound } from './apply-round.ts'
export { clipRows } from './clip-rows.ts'
export type { AggregationErrorCode } from './errors.ts'
export { AggregationError } from './errors.ts'
export { l2Norm } from './l2-norm.ts'
export type { ModelAccumulatorSettings } from './model-accumulator.ts'
export {
  DEFAULT_ITEM_ROW_FLOOR,
  itemRowFloorOf,
  modelAccumulatorOptions,
} from './model-accumulator.ts'
export type {
  ServerOptimizer,
  ServerOptimizerName,
  ServerOptimizerOptions,
  ServerOptimizerState,
} from './server-optimizer.ts'
export {
  createServerOptimizer,
  isServerOptimizerName,
  SERVER_OPTIMIZERS,
} from './server-optimizer.ts'
