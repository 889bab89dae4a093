// The round logic's refusals, as codes the HTTP layer (app/errors.ts) turns into statuses.
import { CodedError } from '@fedrec/protocol'

/** Why the aggregator refused an update or a request. Stable strings: they become `{ error: { code } }`. */
export type AggregatorErrorCode =
  /**
   * n_k above the configured maximum, or above what the rows the update carries can come from: one client
   * must not outweigh the round.
   */
  | 'sample_count_too_large'
  /** An update without a single row: it would count towards the quorum while teaching nothing. */
  | 'empty_update'
  /** The update is for a round that has already closed. */
  | 'round_closed'
  /** The update names a round that has not opened yet. */
  | 'future_round'
  /** The deltas are relative to another model version than the current one. */
  | 'stale_model'
  /** This client already has an accepted update in this round (under another idempotency key). */
  | 'already_submitted'
  /** The idempotency key was accepted before, from another client. */
  | 'idempotency_conflict'
  /** The model has no items yet: there is nothing to train. */
  | 'empty_catalogue'
  /** The update's L2 norm is above `--max-update-norm` and the policy is `reject`. */
  | 'update_norm_too_large'
  /** An evaluation report for a model version that has not been published. */
  | 'unknown_model_version'
  /** An evaluation report for a model version too old to be still collected. */
  | 'evaluation_too_old'
  /** An evaluation report whose round does not fit its model version. */
  | 'bad_evaluation_round'
  /** A settings change (`PATCH /v1/config`) with an unknown key or a value out of range. */
  | 'bad_settings'
  /**
   * A retry of an update that an operator reset of its round discarded: it no longer counts, and the same
   * key is not taken again (an automatic retry must not bring back what the operator threw out).
   */
  | 'round_reset'
  /** An evaluation report that claims more users than `--max-evaluation-users`. */
  | 'evaluation_users_too_large'
  /** `GET /v1/model?since=` with a version that is not a whole number, or after the current one. */
  | 'bad_since'
  /**
   * An evaluation report from a client without an accepted update in the round that trained on the model
   * version or the one that published it: only clients that took part may report.
   */
  | 'not_a_participant'
  /** A second evaluation report (under another idempotency key) from one client for one model version. */
  | 'already_evaluated'

/**
 * A request the round logic refuses. The HTTP layer maps each code to a status in one place.
 * @example throw new AggregatorError('stale_model', 'update is relative to model version 3, the current one is 4')
 */
export class AggregatorError extends CodedError<AggregatorErrorCode> {
  override name = 'AggregatorError'
}
