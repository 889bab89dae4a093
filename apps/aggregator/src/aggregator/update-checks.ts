/** The checks on a plain update before it is queued: its round, version, shape and claimed weight, then its norm bounds. */
import { checkUpdateFits, type ModelUpdate } from '@fedrec/protocol'
import { SecAggRefusal } from '../secagg/errors.ts'
import { AggregatorError } from './errors.ts'
import { applyNormBound, updateNorm as normOfUpdate } from './norm-bound.ts'
import type { ResolvedOptions } from './options.ts'
import type { AggregatorState } from './state.ts'

/**
 * The server's DP clip lets an update through up to this factor above S: an honest client clipped to S
 * already, and float32 rounding can leave its norm a few parts in 10⁷ above; counting that as clipped would
 * make the count meaningless. The accumulator still clips to exactly S, in float64.
 */
const DP_CLIP_SLACK = 1 + 1e-6

/**
 * Refuses an update the open round cannot count.
 * @throws SecAggRefusal `secure_aggregation_required`; AggregatorError `round_closed`, `future_round`,
 * `stale_model`, `empty_update`, `sample_count_too_large`, `already_submitted`; ProtocolError (misshaped)
 */
export async function checkUpdate(
  s: AggregatorState,
  update: ModelUpdate,
  clientHash: string,
): Promise<void> {
  const { opts, model, round } = s
  if (opts.secureAggregation)
    throw new SecAggRefusal(
      'secure_aggregation_required',
      'rounds of this aggregator are secure-aggregated: a plain update would show the server your delta; join a cohort (POST /v1/secagg/join, see config.secureAggregation of /v1/round)',
    )
  if (update.round < round.round) {
    throw new AggregatorError(
      'round_closed',
      `round ${update.round} is closed; the current round is ${round.round}: fetch /v1/round and /v1/model, retrain, and send a new update`,
    )
  }
  if (update.round > round.round) {
    throw new AggregatorError(
      'future_round',
      `round ${update.round} has not opened; the current round is ${round.round}: fetch /v1/round and train for that round`,
    )
  }
  if (update.modelVersion !== model.version) {
    throw new AggregatorError(
      'stale_model',
      `the update is relative to model version ${update.modelVersion}; the current one is ${model.version}: fetch /v1/round and /v1/model, retrain, and send a new update`,
    )
  }
  // A model with item features takes their deltas too, row ids below its F feature rows.
  checkUpdateFits(update, {
    numItems: model.itemIds.length,
    dim: model.dim,
    ...(model.features ? { numFeatures: model.features.table.rows } : {}),
  })
  const rows = Math.max(0, ...update.tensors.map((t) => t.rowIds.length))
  if (rows === 0) {
    // It would count towards the quorum and dilute the honest updates (Σ n_k grows) while teaching nothing.
    throw new AggregatorError(
      'empty_update',
      'the update carries no row of any tensor: there is nothing to count; send an update only after training on at least one item',
    )
  }
  // n_k is the number of (positive, negative) pairs trained on; every pair's positive is a row the update
  // carries and each positive has at most `negativesPerPositive` negatives, so an honest n_k is at most
  // that many per row. A larger claim is a client buying weight it did not train for.
  const justified = s.negativesCeiling * rows
  if (update.sampleCount > justified) {
    throw new AggregatorError(
      'sample_count_too_large',
      `sample count ${update.sampleCount} is more than the ${rows} rows of the update can come from (at most ${s.negativesCeiling} pairs per row, config.negativesPerPositive of /v1/round: ${justified}); send the number of pairs trained on`,
    )
  }
  if (update.sampleCount > opts.maxSampleCount) {
    throw new AggregatorError(
      'sample_count_too_large',
      `sample count ${update.sampleCount} exceeds the maximum of ${opts.maxSampleCount} (config.maxSampleCount of /v1/round); send at most that`,
    )
  }
  if (await s.store.hasClientSubmitted(round.round, clientHash)) {
    throw new AggregatorError(
      'already_submitted',
      `this client already has an accepted update in round ${round.round}; wait for the next round`,
    )
  }
}

/**
 * The update as it will be counted: row and norm bounds applied, then (under DP) clipped to S.
 * @throws AggregatorError `update_norm_too_large` when the policy is 'reject'
 */
export function boundUpdate(opts: ResolvedOptions, update: ModelUpdate): ReturnType<typeof applyNormBound> {
  let bounded = applyNormBound(update, {
    maxNorm: opts.maxUpdateNorm,
    policy: opts.normPolicy,
    maxRowNorm: opts.maxRowNorm,
  })
  if (opts.dpNoiseMultiplier !== null) {
    // Defence in depth: honest clients clipped to S already; a client that did not is clipped here, and
    // what is stored (and replayed after a crash) is the clipped update.
    if (normOfUpdate(bounded.update) > opts.dpClipNorm * DP_CLIP_SLACK)
      bounded = applyNormBound(bounded.update, { maxNorm: opts.dpClipNorm, policy: 'clip' })
  }
  return bounded
}
