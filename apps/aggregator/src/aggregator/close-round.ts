/** Closing a round: the next model, the closed round and the next one written in one transaction, then the state moved on. */
import createDebug from 'debug'
import type { PrivacyRound, StoreTransaction } from '../store/index.ts'
import { EVALUATION_WINDOW } from './evaluations.ts'
import { modelChanges } from './model-patches.ts'
import { nextModel } from './next-model.ts'
import { type PrivacyLedger, roundDp } from './privacy-ledger.ts'
import { openRecord } from './round-records.ts'
import {
  type AggregatorState,
  type ClosedBy,
  deadlineMs,
  iso,
  newAccumulator,
  participants,
} from './state.ts'

const logRound = createDebug('fedrec:aggregator:round')

/** What a close needs from the other jobs. */
export interface CloseRoundDeps {
  /** Writes and counts the updates still waiting for their group commit. */
  commitQueue(): Promise<void>
  /** Re-arms the deadline timer for the next round. */
  arm(): void
  ledger: PrivacyLedger
}

/** What secure aggregation writes in the transaction that closes the round (the end of its cohort). */
export type CloseWrite = (tx: StoreTransaction) => Promise<void>

/**
 * One transaction: the new model, optimizer state, the closed round, payloads dropped, next round, and
 * `write` (secure aggregation ends its cohort in it). Runs under the aggregator's lock (s.serial): a second
 * close of the same round cannot start before this one has moved `s.round` on.
 */
export async function closeRound(
  s: AggregatorState,
  deps: CloseRoundDeps,
  closedBy: ClosedBy,
  write?: CloseWrite,
): Promise<void> {
  // Updates accepted for this round but not yet written belong to it: write and count them first.
  await deps.commitQueue()
  const { store, opts, model, round, accumulator } = s
  const closedAt = iso(opts.now())
  const count = participants(s)
  const samples = accumulator?.samples ?? 0
  const norms = await store.roundNorms(round.round)
  const dp = roundDp(opts)
  const pending = await store.pendingItems()
  const pendingFeatures = model.features && pending.length > 0 ? await store.pendingFeatures() : undefined
  const next = nextModel({
    model,
    optimizerState: s.optimizerState,
    optimizer: s.optimizer,
    // Under DP a round that publishes a model adds noise even with no update: whether anybody took part is
    // private too, and the accountant counts the round either way.
    meanDelta: accumulator && (count > 0 || dp) ? accumulator.result() : undefined,
    pending,
    ...(pendingFeatures ? { pendingFeatures } : {}),
    seed: s.seed,
    createdAt: closedAt,
  })
  const version = next.model.version
  const nextRound = openRecord(round.round + 1, version, opts.now(), deadlineMs(opts))
  const changes = opts.modelLogVersions > 0 ? modelChanges(model, next.model) : undefined
  const pruned = await store.transaction(async (tx) => {
    await tx.saveModel(next.model)
    if (changes) await tx.insertModelChanges(changes)
    await tx.pruneModelChanges(version - opts.modelLogVersions)
    await tx.saveOptimizerState(next.optimizerState)
    await tx.closeRound(round.round, {
      closedAt,
      closedBy,
      participants: count,
      samples,
      updateNorm: next.updateNorm,
      clientNormMean: norms.mean,
      clientNormMax: norms.max,
      clipped: norms.clipped,
      ...(dp ? { dp } : {}),
    })
    await tx.dropPayloads(round.round)
    await tx.clearPendingItems()
    await tx.insertRound(nextRound)
    await write?.(tx)
    const acks = await tx.pruneUpdates(iso(opts.now() - opts.ackRetentionSeconds * 1000))
    return acks + (await tx.pruneEvaluationKeys(version - EVALUATION_WINDOW))
  })
  if (pruned > 0) logRound('pruned %d acks and evaluation keys past their retention', pruned)
  deps.ledger.account(round.round, count, dp ?? null)
  logClose(s, deps.ledger, dp, { closedBy, count, samples, added: pending.length, ...next })
  const resized = next.model.itemIds.length !== model.itemIds.length
  s.model = next.model
  s.optimizerState = next.optimizerState
  s.round = nextRound
  s.negativesCeiling = opts.negativesPerPositive
  if (resized || !accumulator) s.accumulator = newAccumulator(s.model, opts)
  else accumulator.reset()
  deps.arm()
}

/** Logs the close of the open round `s.round` (still the closed one when this runs). */
function logClose(
  s: AggregatorState,
  ledger: PrivacyLedger,
  dp: PrivacyRound | undefined,
  closed: {
    closedBy: ClosedBy
    count: number
    samples: number
    added: number
    updateNorm: number
    model: { version: number; itemIds: readonly string[] }
  },
): void {
  if (dp)
    logRound(
      'round %d: DP σ %d, S %d, q %d; ε %d at δ %d after %d DP rounds',
      s.round.round,
      dp.noiseMultiplier,
      dp.clipNorm,
      dp.sampleRate,
      ledger.epsilon(),
      s.opts.dpDelta,
      ledger.rounds(),
    )
  logRound(
    'round %d closed by %s: %d participants, %d samples, update norm %d; model version %d (%d items, %d new) published',
    s.round.round,
    closed.closedBy,
    closed.count,
    closed.samples,
    closed.updateNorm,
    closed.model.version,
    closed.model.itemIds.length,
    closed.added,
  )
}
