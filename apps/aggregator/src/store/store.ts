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

/** The table groups, as the store and a transaction both offer them. */
export interface StoreGroups
  extends MetaStore,
    ModelStore,
    OptimizerStateStore,
    RoundStore,
    UpdateStore,
    EvaluationStore,
    RejectionStore,
    CatalogueStore {
  /** The secure-aggregation tables, committed in the same transactions as the rounds they close. */
  readonly secAgg: SecAggStore
}

/**
 * The table groups bound to one open transaction (one database connection): what `transaction(fn)` hands
 * `fn`. Everything `fn` reads or writes goes through it; calling the outer store from inside `fn` is a bug
 * (on SQLite it is refused with an error, on a server database it would run outside the transaction).
 */
export type StoreTransaction = StoreGroups

/**
 * The aggregator's durable state, on SQLite (one file, one process) or a server database (PostgreSQL,
 * shared by replicas). Every method answers with a Promise; a call outside `transaction()` is its own
 * transaction. Group writes with `transaction()`, so that an ack is sent only for what committed.
 * @example
 * await store.transaction(async (tx) => {
 *   await tx.saveModel(next)
 *   await tx.closeRound(round, closing)
 * })
 */
export interface Store extends StoreGroups {
  /** Where the store is (a file path, `':memory:'`, or a database URL without its password), for messages. */
  readonly path: string
  /**
   * True when the store had no fedrec tables yet: call `initialise()` before anything else. On a shared store
   * it turns false in `initialise()` when another aggregator created the store first (that one is opened).
   */
  readonly isNew: boolean
  /**
   * True when other processes may write the same store at once (PostgreSQL: aggregator replicas), so what a
   * process holds in memory is only a cache of it; false for SQLite, locked by its one process.
   */
  readonly shared: boolean
  initialise(init: StoreInit): Promise<void>
  /**
   * Runs `fn` in one transaction on one connection, after checking that the store is still the one opened;
   * commits when `fn`'s promise resolves, rolls back when it rejects (and rejects with the same error).
   * @throws StoreLostError when the store was deleted, replaced or is unreachable
   */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T>
  /**
   * Checks that the store is still there and still the one that was opened (SQLite: same device and inode).
   * @throws StoreLostError otherwise — logged once
   */
  checkPresent(): Promise<void>
  close(): Promise<void>
}

/** The name the aggregator and the secure-aggregation coordinator know the store by. */
export type AggregatorStore = Store
