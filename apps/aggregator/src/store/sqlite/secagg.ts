/** The tables `secagg_cohorts`, `secagg_members` and `secagg_messages` on SQLite. */
import { SECAGG_PHASES, type SecAggPhase } from '@fedrec/protocol'
import { asRow, blob, int, nullable, StoreCorruptError, text } from '../rows.ts'
import type { CohortRecord, MemberRecord, SecAggStore } from '../secagg.ts'
import type { SyncGroup } from './async-groups.ts'
import type { SqliteContext } from './statements.ts'

const isPhase = (x: string): x is SecAggPhase => (SECAGG_PHASES as readonly string[]).includes(x)

/**
 * The secure-aggregation group on the same SQLite file (and statement cache) as the rounds, so the
 * coordinator's writes join the transaction that closes a round.
 * @example const cohort = sqliteSecAgg(ctx).latestCohort()
 */
export function sqliteSecAgg({ sql }: SqliteContext): SyncGroup<SecAggStore> {
  return {
    latestCohort() {
      const row = sql(`SELECT * FROM secagg_cohorts ORDER BY cohort DESC LIMIT 1`).get()
      return row === undefined ? undefined : toCohort(row)
    },
    cohort(cohort) {
      const row = sql(`SELECT * FROM secagg_cohorts WHERE cohort = ?`).get(cohort)
      return row === undefined ? undefined : toCohort(row)
    },
    insertCohort(c) {
      sql(
        `INSERT INTO secagg_cohorts (cohort, round, session_id, phase, phase_deadline, opened_at, closed_at, abort_reason, survivors)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        c.cohort,
        c.round,
        c.sessionId,
        c.phase,
        c.phaseDeadline,
        c.openedAt,
        c.closedAt,
        c.abortReason,
        c.survivors,
      )
    },
    setPhase(cohort, phase, phaseDeadline) {
      sql(`UPDATE secagg_cohorts SET phase = ?, phase_deadline = ? WHERE cohort = ?`).run(
        phase,
        phaseDeadline,
        cohort,
      )
    },
    endCohort(cohort, { phase, at, reason, survivors }) {
      sql(
        `UPDATE secagg_cohorts SET phase = ?, closed_at = ?, abort_reason = ?, survivors = ? WHERE cohort = ?`,
      ).run(phase, at, reason, survivors, cohort)
      sql(`DELETE FROM secagg_messages WHERE cohort = ?`).run(cohort)
      sql(`UPDATE secagg_members SET masked = NULL WHERE cohort = ?`).run(cohort)
    },
    members(cohort) {
      return sql(`SELECT * FROM secagg_members WHERE cohort = ? ORDER BY id`).all(cohort).map(toMember)
    },
    memberByToken(cohort, tokenHash) {
      const row = sql(`SELECT * FROM secagg_members WHERE cohort = ? AND token_hash = ?`).get(
        cohort,
        tokenHash,
      )
      return row === undefined ? undefined : toMember(row)
    },
    memberByClient(cohort, clientHash) {
      const row = sql(`SELECT * FROM secagg_members WHERE cohort = ? AND client_hash = ?`).get(
        cohort,
        clientHash,
      )
      return row === undefined ? undefined : toMember(row)
    },
    insertMember(m) {
      sql(
        `INSERT INTO secagg_members (cohort, id, client_hash, token_hash, c_public_key, s_public_key) VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(m.cohort, m.id, m.clientHash, m.tokenHash, m.cPublicKey, m.sPublicKey)
    },
    insertMessage(cohort, id, kind, body) {
      sql(`INSERT INTO secagg_messages (cohort, id, kind, body) VALUES (?, ?, ?, ?)`).run(
        cohort,
        id,
        kind,
        body,
      )
      const column = kind === 'shares' ? 'shared' : 'unmasked'
      sql(`UPDATE secagg_members SET ${column} = 1 WHERE cohort = ? AND id = ?`).run(cohort, id)
    },
    message(cohort, id, kind) {
      const body = sql(`SELECT body FROM secagg_messages WHERE cohort = ? AND id = ? AND kind = ?`)
        .pluck()
        .get(cohort, id, kind)
      return body === undefined ? undefined : text({ body }, 'body', 'secagg_messages')
    },
    messages(cohort, kind) {
      return sql(`SELECT id, body FROM secagg_messages WHERE cohort = ? AND kind = ? ORDER BY id`)
        .all(cohort, kind)
        .map((r) => {
          const row = asRow(r, 'secagg_messages')
          return { id: int(row, 'id', 'secagg_messages'), body: text(row, 'body', 'secagg_messages') }
        })
    },
    contributed(round, clientHash) {
      return (
        sql(
          `SELECT 1 FROM secagg_members m JOIN secagg_cohorts c ON c.cohort = m.cohort
           WHERE c.round = ? AND c.phase = 'done' AND m.client_hash = ? AND m.uploaded = 1`,
        ).get(round, clientHash) !== undefined
      )
    },
    pruneMembers(endedBefore) {
      return sql(
        `DELETE FROM secagg_members WHERE cohort IN (SELECT cohort FROM secagg_cohorts WHERE closed_at IS NOT NULL AND closed_at < ?)`,
      ).run(endedBefore).changes
    },
    setMasked(cohort, id, masked) {
      sql(`UPDATE secagg_members SET masked = ?, uploaded = 1 WHERE cohort = ? AND id = ?`).run(
        Buffer.from(masked.buffer, masked.byteOffset, masked.byteLength),
        cohort,
        id,
      )
    },
  }
}

function toCohort(input: unknown): CohortRecord {
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

function toMember(input: unknown): MemberRecord {
  const row = asRow(input, 'secagg_members')
  const what = 'secagg_members'
  return {
    cohort: int(row, 'cohort', what),
    id: int(row, 'id', what),
    clientHash: text(row, 'client_hash', what),
    tokenHash: text(row, 'token_hash', what),
    cPublicKey: text(row, 'c_public_key', what),
    sPublicKey: text(row, 's_public_key', what),
    shared: int(row, 'shared', what) !== 0,
    uploaded: int(row, 'uploaded', what) !== 0,
    unmasked: int(row, 'unmasked', what) !== 0,
    masked: nullable(row, 'masked', what, blob),
  }
}
