import { CodedError } from '@fedrec/protocol'

/** Why a secure-aggregation step was refused. Stable strings: servers put them in `{ error: { code } }`. */
export type SecAggErrorCode =
  | 'bad_parameters'
  | 'bad_phase'
  | 'bad_message'
  | 'cohort_too_small'
  | 'cohort_too_large'
  | 'threshold_too_low'
  | 'unknown_client'
  | 'duplicate_message'
  | 'decrypt_failed'
  | 'both_shares_requested'
  | 'too_few_survivors'
  | 'reconstruct_failed'
  | 'vector_length'
  | 'overflow'

/**
 * A secure-aggregation message, parameter or phase the protocol cannot accept. Thrown before any state
 * changes, so a server can answer 4xx and keep the cohort going, and a client can abort without leaking.
 * Across a worker boundary the class is lost: compare `err.name === 'SecAggError'`.
 * @example
 * try { server.addMaskedInput(msg) } catch (err) { if (err instanceof SecAggError) reply(409, err.code, err.message) }
 */
export class SecAggError extends CodedError<SecAggErrorCode> {
  override name = 'SecAggError'
}
