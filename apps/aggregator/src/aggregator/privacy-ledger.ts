/** The privacy ledger: the Rényi-DP account of closed rounds, the open round's DP parameters, and the settings DP cannot run under. */
import { createRdpAccountant, type RdpAccountant } from '@fedrec/core/server'
import type { Privacy } from '@fedrec/protocol'
import type { AggregatorStore, PrivacyRound } from '../store/index.ts'
import type { ResolvedOptions } from './options.ts'

/**
 * The Rényi-DP account, recomputed from every closed round's stored (q, σ): it survives restarts, and
 * rounds that ran under other settings count as they ran.
 * @example const ledger = await createPrivacyLedger(store, opts); ledger.privacy().epsilon
 */
export interface PrivacyLedger {
  /** Counts a closed round: composed into ε under DP, an unprotected round without (if anybody took part). */
  account(closedRound: number, participants: number, dp: PrivacyRound | null): void
  /** Starts the account afresh from the store (after a change of δ). */
  recompute(): Promise<void>
  /** ε at δ after `round` closed; undefined for a round without DP. */
  epsilonOf(round: number): number | undefined
  /** ε at δ so far. */
  epsilon(): number
  /** DP rounds composed so far. */
  rounds(): number
  /** The privacy block of the status. */
  privacy(): Privacy
}

export async function createPrivacyLedger(
  store: AggregatorStore,
  opts: ResolvedOptions,
): Promise<PrivacyLedger> {
  let accountant: RdpAccountant = createRdpAccountant()
  const epsilonByRound = new Map<number, number>()
  let unprotectedRounds = 0
  const ledger: PrivacyLedger = {
    account(closedRound, participants, dp) {
      if (dp) {
        accountant.compose(dp)
        epsilonByRound.set(closedRound, accountant.epsilon(opts.dpDelta))
      } else if (participants > 0) unprotectedRounds += 1
    },
    async recompute() {
      const rounds = await store.privacyRounds()
      accountant = createRdpAccountant()
      epsilonByRound.clear()
      unprotectedRounds = 0
      for (const r of rounds) ledger.account(r.round, r.participants, r.dp)
    },
    epsilonOf: (round) => epsilonByRound.get(round),
    epsilon: () => accountant.epsilon(opts.dpDelta),
    rounds: () => accountant.rounds,
    privacy() {
      const dp = roundDp(opts)
      return {
        mechanism: dp ? 'gaussian' : 'none',
        noiseMultiplier: dp?.noiseMultiplier ?? null,
        clipNorm: dp?.clipNorm ?? null,
        delta: opts.dpDelta,
        sampleRate: dp?.sampleRate ?? null,
        epsilon: accountant.epsilon(opts.dpDelta),
        rounds: accountant.rounds,
        unprotectedRounds,
      }
    },
  }
  await ledger.recompute()
  return ledger
}

/** The DP parameters of the open round, as the accountant will compose them; undefined: DP off. */
export const roundDp = (opts: ResolvedOptions): PrivacyRound | undefined =>
  opts.dpNoiseMultiplier === null
    ? undefined
    : {
        noiseMultiplier: opts.dpNoiseMultiplier,
        clipNorm: opts.dpClipNorm,
        sampleRate: opts.dpPopulation === null ? 1 : Math.min(1, opts.minClients / opts.dpPopulation),
      }

/**
 * Why DP-FedAvg cannot run with these settings, or null: checked at start and on every settings change.
 * 'touched' divides each row by a data-dependent count, which DP cannot bound; secure-aggregated rounds hand
 * the server a sum weighted by n_k that it can neither clip nor reweight, so the clip norm would not be its
 * sensitivity.
 */
export function dpConflict(
  opts: Pick<ResolvedOptions, 'rowNormalization' | 'secureAggregation'>,
): string | null {
  if (opts.rowNormalization !== 'all')
    return "DP-FedAvg (--dp-noise-multiplier) needs --row-normalization all: 'touched' divides each row by a data-dependent count, which DP cannot bound"
  if (opts.secureAggregation)
    return 'DP-FedAvg (--dp-noise-multiplier) and secure aggregation cannot be combined yet: the secure sum is weighted by sample counts, so its sensitivity is not the clip norm'
  return null
}
