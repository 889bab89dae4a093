/** Secure aggregation's view of the aggregator's store: its own table group (store/secagg.ts). */
import type { AggregatorStore } from '../store/index.ts'
import type { SecAggStore } from '../store/secagg.ts'

export type { CohortRecord, MemberRecord, SecAggStore } from '../store/secagg.ts'

/**
 * The secure-aggregation tables (schema migration 3) on the aggregator's own store, so that a cohort's
 * state commits in the same transactions as the round it closes.
 * @example const sa = secAggStore(store); const cohort = sa.latestCohort()
 */
export function secAggStore(store: AggregatorStore): SecAggStore {
  return store.secAgg
}
