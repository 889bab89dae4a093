// Rows of the store's tables as records: the column checks of rows.ts, read the same whichever driver
// returned the row (the tables and column names are the same on SQLite and PostgreSQL), so the SQLite
// groups can use these too.
import { SECAGG_PHASES, type SecAggPhase } from '@fedrec/protocol'
import type { EvaluationTotals } from '../evaluations.ts'
import type { PrivacyRound, RoundRecord } from '../rounds.ts'
import { asRow, blob, flag, int, nullable, real, StoreCorruptError, text } from '../rows.ts'
import type { CohortRecord, MemberRecord } from '../secagg.ts'
import type { UpdateRecord } from '../updates.ts'

const isPhase = (x: string): x is SecAggPhase => (SECAGG_PHASES as readonly string[]).includes(x)

/**
 * A row of `rounds`.
 * @example const open = toRound((await query(`SELECT * FROM rounds WHERE closed_at IS NULL`)).rows[0])
 */
export function toRound(input: unknown): RoundRecord {
  const row = asRow(input, 'rounds')
  const closedBy = nullable(row, 'closed_by', 'rounds', text)
  if (closedBy !== null && closedBy !== 'quorum' && closedBy !== 'deadline')
    throw new StoreCorruptError(`rounds.closed_by: unknown value ${closedBy}`)
  return {
    round: int(row, 'round', 'rounds'),
    modelVersion: int(row, 'model_version', 'rounds'),
    openedAt: text(row, 'opened_at', 'rounds'),
    deadline: text(row, 'deadline', 'rounds'),
    closedAt: nullable(row, 'closed_at', 'rounds', text),
    closedBy,
    participants: nullable(row, 'participants', 'rounds', int),
    samples: nullable(row, 'samples', 'rounds', int),
    updateNorm: nullable(row, 'update_norm', 'rounds', real),
    clientNormMean: nullable(row, 'client_norm_mean', 'rounds', real),
    clientNormMax: nullable(row, 'client_norm_max', 'rounds', real),
    clipped: nullable(row, 'clipped', 'rounds', int),
    resets: int(row, 'resets', 'rounds'),
    discarded: int(row, 'discarded', 'rounds'),
  }
}

/**
 * A closed round as the privacy accountant reads it: its participants and DP parameters (null: no DP).
 * @example const rounds = rows.map(toPrivacyRound)
 */
export function toPrivacyRound(input: unknown): {
  round: number
  participants: number
  dp: PrivacyRound | null
} {
  const row = asRow(input, 'rounds')
  const noiseMultiplier = nullable(row, 'dp_noise_multiplier', 'rounds', real)
  return {
    round: int(row, 'round', 'rounds'),
    participants: nullable(row, 'participants', 'rounds', int) ?? 0,
    dp:
      noiseMultiplier === null
        ? null
        : {
            noiseMultiplier,
            sampleRate: real(row, 'dp_sample_rate', 'rounds'),
            clipNorm: real(row, 'dp_clip_norm', 'rounds'),
          },
  }
}

/**
 * A row of `updates`.
 * @example const update = rows.length === 0 ? undefined : toUpdate(rows[0])
 */
export function toUpdate(input: unknown): UpdateRecord {
  const row = asRow(input, 'updates')
  return {
    idempotencyKey: text(row, 'idempotency_key', 'updates'),
    clientHash: text(row, 'client_hash', 'updates'),
    round: int(row, 'round', 'updates'),
    sampleCount: int(row, 'sample_count', 'updates'),
    payload: nullable(row, 'payload', 'updates', blob),
    ack: text(row, 'ack', 'updates'),
    receivedAt: text(row, 'received_at', 'updates'),
    norm: real(row, 'norm', 'updates'),
    clipped: flag(row, 'clipped', 'updates'),
  }
}

/**
 * A row of `evaluations`.
 * @example const totals = rows.map(toEvaluationTotals)
 */
export function toEvaluationTotals(input: unknown): EvaluationTotals {
  const row = asRow(input, 'evaluations')
  return {
    modelVersion: int(row, 'model_version', 'evaluations'),
    users: int(row, 'users', 'evaluations'),
    hits10: real(row, 'hits10', 'evaluations'),
    ndcg10: real(row, 'ndcg10', 'evaluations'),
  }
}

/**
 * A row of `secagg_cohorts`.
 * @example const latest = rows.length === 0 ? undefined : toCohort(rows[0])
 */
export function toCohort(input: unknown): CohortRecord {
  const row = asRow(input, 'secagg_cohorts')
  const phase = text(row, 'phase', 'secagg_cohorts')
  if (!isPhase(phase)) throw new StoreCorruptError(`secagg_cohorts.phase: unknown value ${phase}`)
  return {
    cohort: int(row, 'cohort', 'secagg_cohorts'),
    round: int(row, 'round', 'secagg_cohorts'),
    sessionId: text(row, 'session_id', 'secagg_cohorts'),
    phase,
    phaseDeadline: text(row, 'phase_deadline', 'secagg_cohorts'),
    openedAt: text(row, 'opened_at', 'secagg_cohorts'),
    closedAt: nullable(row, 'closed_at', 'secagg_cohorts', text),
    abortReason: nullable(row, 'abort_reason', 'secagg_cohorts', text),
    survivors: nullable(row, 'survivors', 'secagg_cohorts', int),
  }
}

/**
 * A row of `secagg_members`.
 * @example const members = rows.map(toMember)
 */
export function toMember(input: unknown): MemberRecord {
  const row = asRow(input, 'secagg_members')
  const what = 'secagg_members'
  return {
    cohort: int(row, 'cohort', what),
    id: int(row, 'id', what),
    clientHash: text(row, 'client_hash', what),
    tokenHash: text(row, 'token_hash', what),
    cPublicKey: text(row, 'c_public_key', what),
    sPublicKey: text(row, 's_public_key', what),
    shared: flag(row, 'shared', what),
    uploaded: flag(row, 'uploaded', what),
    unmasked: flag(row, 'unmasked', what),
    masked: nullable(row, 'masked', what, blob),
  }
}
