// The accumulator of fedrec's model: its tensors and how their rows are divided, in one place for the
// aggregator and the simulator.
import { FEATURE_BIAS, FEATURE_EMBEDDING, ITEM_BIAS, ITEM_EMBEDDING } from '@fedrec/protocol'
import type { AccumulatorOptions, DpAggregation, RowNormalization } from './accumulator-types.ts'

/**
 * The item-row floor of a model with item features, in mean clients (see `RowFloor`). Measured with
 * all shoppers every round (docs/simulator.md, "Damping rarely touched rows"): REES46 sessions HR@10 0.47 →
 * 0.84 with features; Online Retail and MovieLens unchanged, since every item row there is touched by more
 * clients. An id-only model has no default floor: its rare items have no feature rows to learn through, and
 * damping their rows cost REES46 0.08 HR@10 at 10 rounds.
 */
export const DEFAULT_ITEM_ROW_FLOOR = 50

/** What {@link modelAccumulatorOptions} needs to know of the model and the aggregation. */
export interface ModelAccumulatorSettings {
  numItems: number
  dim: number
  /** Rows of the item-feature table; undefined for an id-only model. */
  featureRows: number | undefined
  rowNormalization: RowNormalization
  /** Undefined: {@link DEFAULT_ITEM_ROW_FLOOR} with item features, 0 without. Ignored under 'all'. */
  itemRowFloor: number | undefined
  dp?: DpAggregation | undefined
}

/**
 * The accumulator options for fedrec's model: the item tensors, the feature tensors when the model has them
 * (averaged row by row like the item table), and the item-row floor under 'touched'.
 * @example
 * const acc = createAccumulator(modelAccumulatorOptions({ numItems: 5000, dim: 32, featureRows: 4096, rowNormalization: 'touched', itemRowFloor: undefined }))
 */
export function modelAccumulatorOptions(s: ModelAccumulatorSettings): AccumulatorOptions {
  const floor = itemRowFloorOf(s)
  return {
    tensors: [
      { name: ITEM_EMBEDDING, rows: s.numItems, cols: s.dim },
      { name: ITEM_BIAS, rows: s.numItems, cols: 1 },
      ...(s.featureRows === undefined
        ? []
        : [
            { name: FEATURE_EMBEDDING, rows: s.featureRows, cols: s.dim },
            { name: FEATURE_BIAS, rows: s.featureRows, cols: 1 },
          ]),
    ],
    rowNormalization: s.rowNormalization,
    ...(floor > 0 ? { rowFloor: { tensors: [ITEM_EMBEDDING, ITEM_BIAS], clients: floor } } : {}),
    ...(s.dp === undefined ? {} : { dp: s.dp }),
  }
}

/** The floor in effect: 0 under 'all' (every row is divided by all samples already). */
export function itemRowFloorOf(
  s: Pick<ModelAccumulatorSettings, 'featureRows' | 'rowNormalization' | 'itemRowFloor'>,
): number {
  if (s.rowNormalization !== 'touched') return 0
  return s.itemRowFloor ?? (s.featureRows === undefined ? 0 : DEFAULT_ITEM_ROW_FLOOR)
}
