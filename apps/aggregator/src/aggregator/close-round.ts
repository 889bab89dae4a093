/** Closing a round: the next model, the closed round and the next one written in one transaction, then the state moved on. */
import type { Accumulator } from '@fedrec/core/server'
import { decodeUpdate } from '@fedrec/protocol'
import createDebug from 'debug'
import type {
  ModelChanges,
  PrivacyRound,
  RoundClosing,
  RoundRecord,
  StoreTransaction,
} from '../store/index.ts'
import { EVALUATION_WINDOW } from './evaluations.ts'
import { modelChanges } from './model-patches.ts'
import { nextModel } from './next-model.ts'
import { type PrivacyLedger, roundDp } from './privacy-ledger.ts'
import { openRecord } from './round-records.ts'
import { type AggregatorState, type ClosedBy, deadlineMs, iso, newAccumulator } from './state.ts'

const logRound = createDebug('fedrec:aggregator:round')

/** What a close needs from the other jobs. */
export interface CloseRoundDeps {
  /** Writes and counts the updates still waiting for their group commit. */
  commitQueue(): Promise<void>
  /** Re-arms the deadline timer for the next round. */
  arm(): void
  /** Catches up with the store when another replica closed or reset the round (refreshState). */
  refresh(): Promise<unknown>
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
  if (s.store.shared) return closeShared(s, deps, closedBy)
  const { store, opts, model, round, accumulator } = s
  const pending = await store.pendingItems()
  const plan = planClose(s, {
    closedBy,
    accumulator,
    norms: await store.roundNorms(round.round),
    pending,
    pendingFeatures: model.features && pending.length > 0 ? await store.pendingFeatures() : undefined,
  })
  const pruned = await store.transaction((tx) => writeClose(s, tx, plan, write))
  adopt(s, deps, plan, pruned)
  const resized = plan.next.model.itemIds.length !== model.itemIds.length
  if (resized || !accumulator) s.accumulator = newAccumulator(s.model, opts)
  else accumulator.reset()
  deps.arm()
}

/**
 * The close on a store replicas share: in one transaction that holds the open round's row FOR UPDATE (so
 * exactly one replica closes it, after every upload holding it FOR SHARE has committed), the sum is rebuilt
 * from the round's stored updates — no replica's memory is trusted — and the next model written. A replica
 * that finds the round closed, or (another replica having reset it) short of its quorum or deadline, only
 * catches up. An empty round past its deadline gets a new deadline under the same lock.
 */
async function closeShared(s: AggregatorState, deps: CloseRoundDeps, closedBy: ClosedBy): Promise<void> {
  const { store, opts, round } = s
  const outcome = await store.transaction(
    async (tx): Promise<{ plan: ClosePlan; pruned: number } | undefined> => {
      const open = await tx.lockOpenRound(round.round, 'update')
      // Closed by another replica (or this process holds a stale model): nothing to do but catch up.
      if (!open || open.modelVersion !== s.model.version) return undefined
      const tally = await tx.roundTally(round.round)
      const pending = await tx.pendingItems()
      const now = opts.now()
      if (closedBy === 'quorum' && tally.participants < opts.minClients) return undefined
      // A model with no items publishes its first catalogue at once (Aggregator.queueCatalogue).
      const firstItems = s.model.itemIds.length === 0 && pending.length > 0
      if (closedBy === 'deadline' && !firstItems) {
        if (now < Date.parse(open.deadline)) return undefined
        if (tally.participants === 0 && pending.length === 0) {
          const deadline = iso(now + deadlineMs(opts))
          await tx.setDeadline(round.round, deadline)
          logRound('round %d reached its deadline with no update; new deadline %s', round.round, deadline)
          return undefined
        }
      }
      const accumulator = newAccumulator(s.model, opts)
      if (accumulator)
        for await (const payload of tx.roundPayloads(round.round)) accumulator.add(decodeUpdate(payload))
      const plan = planClose(s, {
        closedBy,
        accumulator,
        norms: await tx.roundNorms(round.round),
        pending,
        pendingFeatures: s.model.features && pending.length > 0 ? await tx.pendingFeatures() : undefined,
      })
      return { plan, pruned: await writeClose(s, tx, plan) }
    },
  )
  if (outcome) {
    adopt(s, deps, outcome.plan, outcome.pruned)
    s.accumulator = newAccumulator(s.model, opts)
  } else await deps.refresh()
  deps.arm()
}

/** What a close writes: the next model and round, computed from the round's sum. */
interface ClosePlan {
  closedBy: ClosedBy
  count: number
  samples: number
  dp: PrivacyRound | undefined
  pending: readonly string[]
  next: ReturnType<typeof nextModel>
  nextRound: RoundRecord
  changes: ModelChanges | undefined
  closing: RoundClosing
}

function planClose(
  s: AggregatorState,
  from: {
    closedBy: ClosedBy
    accumulator: Accumulator | undefined
    norms: { mean: number; max: number; clipped: number }
    pending: readonly string[]
    pendingFeatures: ReadonlyMap<string, readonly string[]> | undefined
  },
): ClosePlan {
  const { opts, model, round } = s
  const { closedBy, accumulator, norms, pending, pendingFeatures } = from
  const closedAt = iso(opts.now())
  const count = accumulator?.participants ?? 0
  const samples = accumulator?.samples ?? 0
  const dp = roundDp(opts)
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
  const nextRound = openRecord(round.round + 1, next.model.version, opts.now(), deadlineMs(opts))
  const changes = opts.modelLogVersions > 0 ? modelChanges(model, next.model) : undefined
  const closing: RoundClosing = {
    closedAt,
    closedBy,
    participants: count,
    samples,
    updateNorm: next.updateNorm,
    clientNormMean: norms.mean,
    clientNormMax: norms.max,
    clipped: norms.clipped,
    ...(dp ? { dp } : {}),
  }
  return { closedBy, count, samples, dp, pending, next, nextRound, changes, closing }
}

/** The close's writes, in the caller's transaction; resolves with the acks and keys pruned. */
async function writeClose(
  s: AggregatorState,
  tx: StoreTransaction,
  plan: ClosePlan,
  write?: CloseWrite,
): Promise<number> {
  const { opts, round } = s
  const version = plan.next.model.version
  await tx.saveModel(plan.next.model)
  if (plan.changes) await tx.insertModelChanges(plan.changes)
  await tx.pruneModelChanges(version - opts.modelLogVersions)
  await tx.saveOptimizerState(plan.next.optimizerState)
  await tx.closeRound(round.round, plan.closing)
  await tx.dropPayloads(round.round)
  await tx.clearPendingItems()
  await tx.insertRound(plan.nextRound)
  await write?.(tx)
  const acks = await tx.pruneUpdates(iso(opts.now() - opts.ackRetentionSeconds * 1000))
  return acks + (await tx.pruneEvaluationKeys(version - EVALUATION_WINDOW))
}

/** The state moved on to the next round once the close has committed (its accumulator aside). */
function adopt(s: AggregatorState, deps: CloseRoundDeps, plan: ClosePlan, pruned: number): void {
  if (pruned > 0) logRound('pruned %d acks and evaluation keys past their retention', pruned)
  deps.ledger.account(s.round.round, plan.count, plan.dp ?? null)
  logClose(s, deps.ledger, plan.dp, { ...plan, added: plan.pending.length, ...plan.next })
  s.model = plan.next.model
  s.optimizerState = plan.next.optimizerState
  s.round = plan.nextRound
  s.negativesCeiling = s.opts.negativesPerPositive
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
