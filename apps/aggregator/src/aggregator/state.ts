/** The aggregator's one mutable state — model, open round, accumulator, optimizer moments — that every job file reads and writes. */
import {
  type Accumulator,
  createAccumulator,
  modelAccumulatorOptions,
  type ServerOptimizer,
} from '@fedrec/core/server'
import type { SecAggCoordinator } from '../secagg/coordinator.ts'
import type { Serial } from '../serial.ts'
import type { AggregatorStore, OptimizerState, RoundRecord, StoredModel } from '../store/index.ts'
import type { ResolvedOptions } from './options.ts'

/**
 * What a running aggregator holds in memory, beside its store. The store is the truth: everything here is
 * either loaded from it at start or changed only after the store's transaction has succeeded.
 * @example const s = loadState(store, opts); s.round.round // the open round
 */
export interface AggregatorState {
  readonly store: AggregatorStore
  /** The options in force: an operator's settings change writes into them. */
  readonly opts: ResolvedOptions
  /** The store's seed: the rows of items added later are initialised from it. */
  readonly seed: number
  /** The store's client salt: client ids are kept hashed with it. */
  readonly salt: string
  readonly optimizer: ServerOptimizer
  /**
   * The per-process lock of every state change: an upload's checks and its batch's write and close, an
   * evaluation report, a reset, a settings change, a deadline, a secure-aggregation step. Between the awaits
   * of one section no other section runs, so two requests cannot both pass "already submitted?" or both close
   * the round. Reads (status, model, round info) take no lock.
   */
  readonly serial: Serial
  /** The published model: the open round trains on it. */
  model: StoredModel
  /** The server optimizer's moments, as stored. */
  optimizerState: OptimizerState
  /** The open round. */
  round: RoundRecord
  /** The open round's counted updates; undefined while the model has no items. */
  accumulator: Accumulator | undefined
  /**
   * The largest negatives per positive handed out since the open round opened: an update trained under it
   * may still arrive after an operator lowered the setting, and must not be refused for it.
   */
  negativesCeiling: number
  /** Secure aggregation's cohorts (`--secure-aggregation`); undefined when rounds take plain updates. */
  secagg: SecAggCoordinator | undefined
  /** Set by `close()`: no timer fires and no batch is written afterwards. */
  closed: boolean
}

/** How the open round's close was triggered. */
export type ClosedBy = 'quorum' | 'deadline'

export const iso = (ms: number): string => new Date(ms).toISOString()

/** The round length in milliseconds. */
export const deadlineMs = (opts: ResolvedOptions): number => Math.round(opts.roundDeadlineSeconds * 1000)

/** Updates counted in the open round (by this process: see {@link roundTally} for replicas). */
export const participants = (s: AggregatorState): number => s.accumulator?.participants ?? 0

/**
 * The open round's updates and samples: as the store counts them on a store replicas share (each replica
 * counts only its own), else from the accumulator.
 */
export async function roundTally(s: AggregatorState): Promise<{ participants: number; samples: number }> {
  if (s.store.shared) return s.store.roundTally(s.round.round)
  return { participants: participants(s), samples: s.accumulator?.samples ?? 0 }
}

export function newAccumulator(model: StoredModel, opts: ResolvedOptions): Accumulator | undefined {
  const rows = model.itemIds.length
  // The accumulator needs at least one row; with an empty catalogue there is nothing to train.
  if (rows === 0) return undefined
  return createAccumulator(
    modelAccumulatorOptions({
      numItems: rows,
      dim: model.dim,
      featureRows: model.features?.table.rows,
      rowNormalization: opts.rowNormalization,
      itemRowFloor: opts.itemRowFloor,
      // DP-FedAvg: the fixed denominator is the quorum, the expected number of updates per round.
      dp:
        opts.dpNoiseMultiplier === null
          ? undefined
          : {
              clipNorm: opts.dpClipNorm,
              noiseMultiplier: opts.dpNoiseMultiplier,
              denominator: opts.minClients,
            },
    }),
  )
}
