/** What the round endpoints show: the round info and config clients train with, and the operator's and the public status. */
import type { PublicStatus, RoundConfig, RoundInfo, RoundSummary, Status } from '@fedrec/protocol'
import { EVALUATION_WINDOW } from './evaluations.ts'
import type { PrivacyLedger } from './privacy-ledger.ts'
import type { RejectionCounter } from './rejections.ts'
import { toEvaluationSummary, toSummary } from './round-records.ts'
import { clientSettings } from './settings-change.ts'
import { type AggregatorState, roundTally } from './state.ts'

/** How many closed rounds `status()` lists. */
const HISTORY_LIMIT = 1000

/** The parts a status is read from, beside the state. */
export interface StatusSources {
  ledger: PrivacyLedger
  rejections: RejectionCounter
  /** Size of the encoded current model. */
  modelBytes(): number
}

const config = (s: AggregatorState): RoundConfig => ({
  ...clientSettings(s.opts),
  deadline: s.round.deadline,
  minClients: s.opts.minClients,
  ...(s.opts.dpNoiseMultiplier === null ? {} : { clipNorm: s.opts.dpClipNorm }),
  ...(s.opts.secureAggregation ? { secureAggregation: s.opts.secureAggregation } : {}),
  ...(s.opts.negativeIdRows ? {} : { negativesOnFeatures: true }),
})

/** `GET /v1/round`. */
export const roundInfo = (s: AggregatorState): RoundInfo => ({
  round: s.round.round,
  modelVersion: s.model.version,
  numItems: s.model.itemIds.length,
  dim: s.model.dim,
  config: config(s),
})

// `--min-clients` plays no part in a secure-aggregated round: the cohort decides.
export const publicQuorum = (s: AggregatorState): number =>
  s.opts.secureAggregation?.minCohort ?? s.opts.minClients

const history = async (s: AggregatorState, ledger: PrivacyLedger): Promise<RoundSummary[]> =>
  (await s.store.history(HISTORY_LIMIT)).map((r) => {
    const epsilon = ledger.epsilonOf(r.round)
    return epsilon === undefined ? toSummary(r) : { ...toSummary(r), epsilon }
  })

/** F of the model's feature table, when it has one. */
const featureRows = (s: AggregatorState): { featureRows?: number } =>
  s.model.features ? { featureRows: s.model.features.table.rows } : {}

/** `GET /v1/status` with the operator token. */
export async function status(s: AggregatorState, from: StatusSources): Promise<Status> {
  const { model, round, store, opts } = s
  const tally = await roundTally(s)
  return {
    round: round.round,
    modelVersion: model.version,
    participants: tally.participants,
    samples: tally.samples,
    numItems: model.itemIds.length,
    dim: model.dim,
    ...featureRows(s),
    modelBytes: from.modelBytes(),
    serverOptimizer: opts.serverOptimizer,
    config: config(s),
    history: await history(s, from.ledger),
    rejections: await from.rejections.counts(),
    evaluations: (await store.evaluations(HISTORY_LIMIT)).map(toEvaluationSummary),
    resets: round.resets,
    discarded: round.discarded,
    privacy: from.ledger.privacy(),
  }
}

/** `GET /v1/status` without a token. */
export async function publicStatus(s: AggregatorState, from: StatusSources): Promise<PublicStatus> {
  const { model, round, store, opts } = s
  const quorum = publicQuorum(s)
  return {
    round: round.round,
    modelVersion: model.version,
    numItems: model.itemIds.length,
    dim: model.dim,
    ...featureRows(s),
    modelBytes: from.modelBytes(),
    serverOptimizer: opts.serverOptimizer,
    config: config(s),
    // A round below the quorum would show its few clients' n_k and norms (one client's, alone).
    history: (await history(s, from.ledger)).filter((r) => r.participants >= quorum),
    // A version that still takes reports would show each new report's sums as a difference.
    evaluations: (await store.evaluations(HISTORY_LIMIT))
      .filter((e) => e.modelVersion < model.version - EVALUATION_WINDOW && e.users >= quorum)
      .map(toEvaluationSummary),
    privacy: from.ledger.privacy(),
  }
}
