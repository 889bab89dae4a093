/** Secure-aggregated rounds: the coordinator of cohorts, whose unmasked sum closes the open round. */
import { decodeSecAggSum, secAggAggregate } from '@fedrec/core/server'
import type { SecAggConfig } from '@fedrec/protocol'
import { createSecAggCoordinator, type SecAggCoordinator } from '../secagg/coordinator.ts'
import type { CloseWrite } from './close-round.ts'
import { AggregatorError } from './errors.ts'
import type { AggregatorState, ClosedBy } from './state.ts'

/** A coordinator for `config` on the open round; a cohort's sum is counted only if the round closes with it. */
export async function startSecureAggregation(
  s: AggregatorState,
  config: SecAggConfig,
  closeRound: (closedBy: ClosedBy, write?: CloseWrite) => Promise<void>,
): Promise<SecAggCoordinator> {
  return await createSecAggCoordinator({
    store: s.store,
    serial: s.serial,
    salt: s.salt,
    config,
    now: s.opts.now,
    timers: s.opts.deadlineTimer,
    current: () => ({
      round: s.round.round,
      modelVersion: s.model.version,
      numItems: s.model.itemIds.length,
      dim: s.model.dim,
      numFeatures: s.model.features?.table.rows,
    }),
    async complete(sum, count, write) {
      const { accumulator, model } = s
      if (!accumulator) throw new AggregatorError('empty_catalogue', 'the model has no items yet')
      // The feature table's sums come with their own row weights, as plain updates' do (newAccumulator).
      const decoded = decodeSecAggSum(sum, {
        numItems: model.itemIds.length,
        dim: model.dim,
        numFeatures: model.features?.table.rows,
      })
      accumulator.addSum(secAggAggregate(decoded, count))
      try {
        await closeRound('quorum', write)
      } catch (err) {
        // The sum is not counted unless the round closed with it; the cohort stays unmasking and retries.
        accumulator.reset()
        throw err
      }
    },
  })
}
