/** The operator's settings: what they read now, and a change applied to the open round (accumulator, privacy account, deadline, quorum). */

import { decodeUpdate } from '@fedrec/protocol'
import createDebug from 'debug'
import { AggregatorError } from './errors.ts'
import type { ResolvedOptions } from './options.ts'
import { dpConflict, type PrivacyLedger } from './privacy-ledger.ts'
import type { RoundSettings } from './settings.ts'
import { type AggregatorState, deadlineMs, iso, newAccumulator } from './state.ts'

const logRound = createDebug('fedrec:aggregator:round')

/** What clients train with: part of both the round config they receive and the operator's settings. */
export const clientSettings = (opts: ResolvedOptions) => ({
  mu: opts.mu,
  localEpochs: opts.localEpochs,
  learningRate: opts.learningRate,
  negativesPerPositive: opts.negativesPerPositive,
  batchSize: opts.batchSize,
  maxSampleCount: opts.maxSampleCount,
  padRatio: opts.padRatio,
  updateDtype: opts.updateDtype,
})

/** The settings an operator may change at run time, as they are now. */
export function currentSettings(opts: ResolvedOptions): RoundSettings {
  return {
    minClients: opts.minClients,
    roundDeadlineSeconds: opts.roundDeadlineSeconds,
    ...clientSettings(opts),
    maxUpdateNorm: Number.isFinite(opts.maxUpdateNorm) ? opts.maxUpdateNorm : null,
    maxRowNorm: Number.isFinite(opts.maxRowNorm) ? opts.maxRowNorm : null,
    normPolicy: opts.normPolicy,
    dpNoiseMultiplier: opts.dpNoiseMultiplier,
    dpClipNorm: opts.dpClipNorm,
    dpDelta: opts.dpDelta,
    dpPopulation: opts.dpPopulation,
  }
}

/** What a settings change needs from the other jobs. */
export interface SettingsChangeDeps {
  ledger: PrivacyLedger
  commitQueue(): Promise<void>
  arm(): void
  closeOnQuorum(): Promise<void>
}

/**
 * The change behind `Aggregator.updateSettings`, under the aggregator's lock.
 * @throws AggregatorError `bad_settings` when DP would be on under settings it cannot run with
 */
export async function updateSettings(
  s: AggregatorState,
  deps: SettingsChangeDeps,
  patch: Partial<RoundSettings>,
): Promise<RoundSettings> {
  const { opts } = s
  const { maxUpdateNorm, maxRowNorm, ...rest } = patch
  const dpBefore = opts.dpNoiseMultiplier !== null
  const dpAfter = patch.dpNoiseMultiplier === undefined ? dpBefore : patch.dpNoiseMultiplier !== null
  const conflict = dpAfter ? dpConflict(opts) : null
  if (conflict) throw new AggregatorError('bad_settings', conflict)
  Object.assign(opts, rest)
  if (maxUpdateNorm !== undefined) opts.maxUpdateNorm = maxUpdateNorm ?? Number.POSITIVE_INFINITY
  if (maxRowNorm !== undefined) opts.maxRowNorm = maxRowNorm ?? Number.POSITIVE_INFINITY
  // Updates trained under the old negatives per positive may still arrive in this round.
  s.negativesCeiling = Math.max(s.negativesCeiling, opts.negativesPerPositive)
  logRound('settings changed by the operator: %o', patch)
  // The open round closes under the settings in force at its close: its accepted updates are counted
  // again with the new S, σ and denominator (the quorum), so the accountant's (q, σ) is what was run.
  const dpChanged = ['dpNoiseMultiplier', 'dpClipNorm', 'dpPopulation'].some((k) => k in patch)
  if (dpChanged || (dpBefore && 'minClients' in patch)) await rebuildAccumulator(s, deps.commitQueue)
  if ('dpDelta' in patch) await deps.ledger.recompute()
  if ('roundDeadlineSeconds' in patch) {
    // The open round too: its deadline becomes its opening plus the new length (now at the earliest), so
    // an operator who shortens the rounds need not wait out the old length once more.
    const deadline = iso(Math.max(opts.now(), Date.parse(s.round.openedAt) + deadlineMs(opts)))
    await s.store.setDeadline(s.round.round, deadline)
    s.round = { ...s.round, deadline }
    deps.arm()
  }
  // A lowered quorum that is met closes the round now — through the retrying path: the settings are
  // changed either way, and a close that fails (disk full) must be tried again, not wait for the deadline.
  await deps.closeOnQuorum()
  return currentSettings(opts)
}

/** A fresh accumulator for the current settings, fed the open round's stored updates (after a DP change). */
async function rebuildAccumulator(s: AggregatorState, commitQueue: () => Promise<void>): Promise<void> {
  await commitQueue()
  const fresh = newAccumulator(s.model, s.opts)
  // Replicas count from the store and the closer rebuilds the sum itself: nothing to feed here.
  if (fresh && !s.store.shared)
    for await (const payload of s.store.roundPayloads(s.round.round)) fresh.add(decodeUpdate(payload))
  s.accumulator = fresh
}
