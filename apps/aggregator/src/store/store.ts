/** The `Store` interface: the per-group interfaces of the aggregator's durable state, plus its lifecycle. */
import type { CatalogueStore } from './catalogue.ts'
import type { EvaluationStore } from './evaluations.ts'
import type { MetaStore } from './meta.ts'
import type { ModelStore, StoredModel } from './model.ts'
import type { OptimizerStateStore } from './optimizer-state.ts'
import type { RejectionStore } from './rejections.ts'
import type { RoundRecord, RoundStore } from './rounds.ts'
import type { SecAggStore } from './secagg.ts'
import type { UpdateStore } from './updates.ts'

/** Everything a fresh store is created with, in one transaction. */
export interface StoreInit {
  meta: Record<string, string>
  model: StoredModel
  round: RoundRecord
}

/**
 * The aggregator's durable state. Every method is synchronous; group writes with `transaction()`, so that an
 * ack is sent only for what committed. The groups the aggregator calls are flat on the store (it calls
 * `store.loadModel()`); secure aggregation, a protocol of its own, gets its group as `secAgg`.
 * @example
 * store.transaction(() => {
 *   store.saveModel(next)
 *   store.closeRound(round, closing)
 * })
 */
export interface Store
  extends MetaStore,
    ModelStore,
    OptimizerStateStore,
    RoundStore,
    UpdateStore,
    EvaluationStore,
    RejectionStore,
    CatalogueStore {
  /** Where the store is (a file path, or `':memory:'`), for messages. */
  readonly path: string
  /** True when the store had no fedrec tables yet: call `initialise()` before anything else. */
  readonly isNew: boolean
  /** The secure-aggregation tables, committed in the same transactions as the rounds they close. */
  readonly secAgg: SecAggStore
  initialise(init: StoreInit): void
  /**
   * Runs `fn` in one transaction, after checking that the store is still the one opened.
   * @throws StoreLostError when the store file was deleted or replaced under the running aggregator
   */
  transaction<T>(fn: () => T): T
  /**
   * Checks that the store file is still there and still the file that was opened (same device and inode).
   * @throws StoreLostError otherwise — logged once
   */
  checkPresent(): void
  close(): void
}

/** The name the aggregator and the secure-aggregation coordinator know the store by. */
export type AggregatorStore = Store
