// The error class of the model maths (weights, samples, training, scoring), with stable codes.
import { CodedError } from '@fedrec/protocol'

/** Why the model maths refused an input or a result. Stable strings, like the protocol's error codes. */
export type ModelErrorCode =
  | 'missing_tensor'
  | 'shape_mismatch'
  | 'non_finite'
  | 'bad_option'
  | 'row_out_of_range'
  | 'bad_feature'

/**
 * An input the model cannot use (a misshaped snapshot, a row outside the catalogue, a bad option) or a
 * training run that diverged. Thrown before anything is returned, so no half-made model leaves the function.
 * Across a worker boundary the class is lost: compare `err.name === 'ModelError'`.
 * @example
 * try { sharedWeightsFromSnapshot(snapshot) } catch (err) { if (err instanceof ModelError) log(err.code) }
 */
export class ModelError extends CodedError<ModelErrorCode> {
  override name = 'ModelError'
}
