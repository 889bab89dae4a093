// Rows of the store's tables as records, each declared once as column → reader (the column checks of
// rows.ts). They read a row the same whichever driver returned it (the tables and column names are the same
// on SQLite and PostgreSQL): both stores read their rounds and privacy rounds here.
import { SECAGG_PHASES } from '@fedrec/protocol'
import type { EvaluationTotals } from './evaluations.ts'
import type { PrivacyRound, RoundRecord } from './rounds.ts'
import { asRow, blob, flag, int, nullable, real, StoreCorruptError, text } from './rows.ts'
import type { CohortRecord, MemberRecord } from './secagg.ts'
import type { UpdateRecord } from './updates.ts'

type Row = Record<string, unknown>
/** Reads one column of a row, as the guards of rows.ts do. */
type Reader<T> = (row: Row, key: string, what: string) => T
type Columns<T> = { readonly [K in keyof T]-?: readonly [column: string, read: Reader<T[K]>] }

/** A nullable column of what `read` reads. */
const orNull =
  <T>(read: Reader<T>): Reader<T | null> =>
  (row, key, what) =>
    nullable(row, key, what, read)

/** A text column holding one of `values`. */
const oneOf =
  <T extends string>(values: readonly T[]): Reader<T> =>
  (row, key, what) => {
    const value = text(row, key, what)
    const known = (v: string): v is T => (values as readonly string[]).includes(v)
    if (!known(value)) throw new StoreCorruptError(`${what}.${key}: unknown value ${value}`)
    return value
  }

/**
 * Reads a row of table `what` into a record, column by column.
 * @example const round = decode(rows[0], 'rounds', ROUND)
 */
function decode<T>(input: unknown, what: string, columns: Columns<T>): T {
  const row = asRow(input, what)
  const out: Partial<T> = {}
  for (const key of Object.keys(columns) as (keyof T & string)[]) {
    const [column, read] = columns[key]
    out[key] = read(row, column, what)
  }
  // Columns<T> has an entry for every key of T, each read and checked above: `out` is a whole T.
  return out as T
}

const ROUND: Columns<RoundRecord> = {
  round: ['round', int],
  modelVersion: ['model_version', int],
  openedAt: ['opened_at', text],
  deadline: ['deadline', text],
  closedAt: ['closed_at', orNull(text)],
  closedBy: ['closed_by', orNull(oneOf(['quorum', 'deadline'] as const))],
  participants: ['participants', orNull(int)],
  samples: ['samples', orNull(int)],
  updateNorm: ['update_norm', orNull(real)],
  clientNormMean: ['client_norm_mean', orNull(real)],
  clientNormMax: ['client_norm_max', orNull(real)],
  clipped: ['clipped', orNull(int)],
  resets: ['resets', int],
  discarded: ['discarded', int],
}

const UPDATE: Columns<UpdateRecord> = {
  idempotencyKey: ['idempotency_key', text],
  clientHash: ['client_hash', text],
  round: ['round', int],
  sampleCount: ['sample_count', int],
  payload: ['payload', orNull(blob)],
  ack: ['ack', text],
  receivedAt: ['received_at', text],
  norm: ['norm', real],
  clipped: ['clipped', flag],
}

const DISCARDED: Columns<{ clientHash: string; round: number }> = {
  clientHash: ['client_hash', text],
  round: ['round', int],
}

const EVALUATION_KEY: Columns<{ clientHash: string | null; modelVersion: number }> = {
  clientHash: ['client_hash', orNull(text)],
  modelVersion: ['model_version', int],
}

const EVALUATION_TOTALS: Columns<EvaluationTotals> = {
  modelVersion: ['model_version', int],
  users: ['users', int],
  hits10: ['hits10', real],
  ndcg10: ['ndcg10', real],
}

const COHORT: Columns<CohortRecord> = {
  cohort: ['cohort', int],
  round: ['round', int],
  sessionId: ['session_id', text],
  phase: ['phase', oneOf(SECAGG_PHASES)],
  phaseDeadline: ['phase_deadline', text],
  openedAt: ['opened_at', text],
  closedAt: ['closed_at', orNull(text)],
  abortReason: ['abort_reason', orNull(text)],
  survivors: ['survivors', orNull(int)],
}

const MEMBER: Columns<MemberRecord> = {
  cohort: ['cohort', int],
  id: ['id', int],
  clientHash: ['client_hash', text],
  tokenHash: ['token_hash', text],
  cPublicKey: ['c_public_key', text],
  sPublicKey: ['s_public_key', text],
  shared: ['shared', flag],
  uploaded: ['uploaded', flag],
  unmasked: ['unmasked', flag],
  masked: ['masked', orNull(blob)],
}

/** @example const open = toRound((await query(`SELECT * FROM rounds WHERE closed_at IS NULL`)).rows[0]) */
export const toRound = (input: unknown): RoundRecord => decode(input, 'rounds', ROUND)

/** @example const update = rows.length === 0 ? undefined : toUpdate(rows[0]) */
export const toUpdate = (input: unknown): UpdateRecord => decode(input, 'updates', UPDATE)

/** @example const discarded = rows.length === 0 ? undefined : toDiscarded(rows[0]) */
export const toDiscarded = (input: unknown) => decode(input, 'discarded_updates', DISCARDED)

/** @example const counted = rows.length === 0 ? undefined : toEvaluationKey(rows[0]) */
export const toEvaluationKey = (input: unknown) => decode(input, 'evaluation_reports', EVALUATION_KEY)

/** @example const totals = rows.map(toEvaluationTotals) */
export const toEvaluationTotals = (input: unknown): EvaluationTotals =>
  decode(input, 'evaluations', EVALUATION_TOTALS)

/** @example const latest = rows.length === 0 ? undefined : toCohort(rows[0]) */
export const toCohort = (input: unknown): CohortRecord => decode(input, 'secagg_cohorts', COHORT)

/** @example const members = rows.map(toMember) */
export const toMember = (input: unknown): MemberRecord => decode(input, 'secagg_members', MEMBER)

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
