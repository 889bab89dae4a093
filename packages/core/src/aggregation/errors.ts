// The error class of the aggregation maths (accumulator, server step, row clipping), with stable codes.
import { CodedError } from '@fedrec/protocol'

/** Why the aggregation maths refused an input. Stable strings: servers put them in `{ error: { code } }`. */
export type AggregationErrorCode =
  | 'bad_option'
  | 'unknown_tensor'
  | 'duplicate_tensor'
  | 'shape_mismatch'
  | 'bad_row_ids'
  | 'row_out_of_range'
  | 'non_finite'
  | 'bad_sample_count'
  | 'no_updates'

/**
 * An update, option or tensor the aggregation maths cannot use. Thrown before anything is mutated, so the
 * caller can reject the one update and keep the round going.
 * @example
 * try { acc.add(update) } catch (err) { if (err instanceof AggregationError) reply(422, err.code, err.message) }
 */
export class AggregationError extends CodedError<AggregationErrorCode> {
  override name = 'AggregationError'
}
