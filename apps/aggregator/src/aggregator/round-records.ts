/** The store's round and evaluation records: a freshly opened round, and the summaries that status shows. */
import type { EvaluationSummary, RoundSummary } from '@fedrec/protocol'
import type { RoundRecord } from '../store/index.ts'

export function openRecord(
  round: number,
  modelVersion: number,
  nowMs: number,
  deadlineMs: number,
): RoundRecord {
  return {
    round,
    modelVersion,
    openedAt: new Date(nowMs).toISOString(),
    deadline: new Date(nowMs + deadlineMs).toISOString(),
    closedAt: null,
    closedBy: null,
    participants: null,
    samples: null,
    updateNorm: null,
    clientNormMean: null,
    clientNormMax: null,
    clipped: null,
    resets: 0,
    discarded: 0,
  }
}

export function toSummary(r: RoundRecord): RoundSummary {
  return {
    round: r.round,
    // The version this round trained on; it published modelVersion + 1.
    modelVersion: r.modelVersion,
    participants: r.participants ?? 0,
    samples: r.samples ?? 0,
    openedAt: r.openedAt,
    closedAt: r.closedAt ?? '',
    closedBy: r.closedBy ?? 'deadline',
    updateNorm: r.updateNorm ?? 0,
    clientUpdateNorm: { mean: r.clientNormMean ?? 0, max: r.clientNormMax ?? 0 },
    clipped: r.clipped ?? 0,
    resets: r.resets,
    discarded: r.discarded,
  }
}

export function toEvaluationSummary(e: {
  modelVersion: number
  users: number
  hits10: number
  ndcg10: number
}): EvaluationSummary {
  const mean = (sum: number): number => (e.users > 0 ? Math.min(1, sum / e.users) : 0)
  return { modelVersion: e.modelVersion, users: e.users, hr10: mean(e.hits10), ndcg10: mean(e.ndcg10) }
}
