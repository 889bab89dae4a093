// The secure-aggregation coordinator's refusals, as codes the HTTP layer turns into statuses.
import { CodedError } from '@fedrec/protocol'

/** Why the secure-aggregation endpoints refused a request. Stable strings: they become `{ error: { code } }`. */
export type SecAggRefusalCode =
  /** The cohort named in the URL or the join does not exist. */
  | 'unknown_cohort'
  /** The join names another cohort than the one forming now (it started, ended or was never there). */
  | 'cohort_not_forming'
  /** The join is for another round or model version than the open one: retrain on the current model. */
  | 'stale_round'
  /** This client is already a member of this cohort with other keys or another token. */
  | 'already_joined'
  /** Another member of the cohort has this id: draw another one (and fresh keys) and join again. */
  | 'id_taken'
  /** The bearer token is missing or not the one of a member of this cohort. */
  | 'not_a_member'
  /** The message belongs to another phase than the cohort's current one. */
  | 'wrong_phase'
  /** A second, different message of a kind each member sends once (shares, masked input, unmask shares). */
  | 'already_sent'
  /** The cohort has ended (done or aborted); `GET …/me` says which. */
  | 'cohort_ended'
  /** The message does not fit the cohort: wrong recipients, wrong length, shares of the wrong members. */
  | 'bad_secagg_message'
  /** Plain updates are refused while rounds are secure-aggregated. */
  | 'secure_aggregation_required'

/**
 * A secure-aggregation request the aggregator refuses; nothing of the cohort's state changed. It knows no
 * HTTP: app/errors.ts answers each code with its status.
 * @example throw new SecAggRefusal('wrong_phase', 'the cohort is unmasking; masked inputs are no longer taken')
 */
export class SecAggRefusal extends CodedError<SecAggRefusalCode> {
  override name = 'SecAggRefusal'
}
