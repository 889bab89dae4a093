/** The tables `secagg_cohorts`, `secagg_members` and `secagg_messages` on PostgreSQL. */

import { toCohort, toMember } from '../records.ts'
import { asRow, int, text } from '../rows.ts'
import type { SecAggStore } from '../secagg.ts'
import type { PgContext } from './context.ts'
import { exists, first, insertRow } from './queries.ts'

/**
 * The secure-aggregation group on the same database (and, in a transaction, the same connection) as the
 * rounds, so the coordinator's writes join the transaction that closes a round.
 * @example const cohort = await postgresSecAgg(ctx).latestCohort()
 */
export function postgresSecAgg({ query }: PgContext): SecAggStore {
  const one = <T>(text: string, values: unknown[], read: (row: unknown) => T) =>
    first(query, text, values, read)
  return {
    latestCohort: () => one(`SELECT * FROM secagg_cohorts ORDER BY cohort DESC LIMIT 1`, [], toCohort),
    cohort: (cohort) => one(`SELECT * FROM secagg_cohorts WHERE cohort = $1`, [cohort], toCohort),
    async insertCohort(c) {
      await insertRow(query, 'secagg_cohorts', {
        cohort: c.cohort,
        round: c.round,
        session_id: c.sessionId,
        phase: c.phase,
        phase_deadline: c.phaseDeadline,
        opened_at: c.openedAt,
        closed_at: c.closedAt,
        abort_reason: c.abortReason,
        survivors: c.survivors,
      })
    },
    async setPhase(cohort, phase, phaseDeadline) {
      await query(`UPDATE secagg_cohorts SET phase = $1, phase_deadline = $2 WHERE cohort = $3`, [
        phase,
        phaseDeadline,
        cohort,
      ])
    },
    async endCohort(cohort, { phase, at, reason, survivors }) {
      // One statement: the end, the relayed messages and the masked inputs go together.
      await query(
        `WITH ended AS (
           UPDATE secagg_cohorts SET phase = $2, closed_at = $3, abort_reason = $4, survivors = $5 WHERE cohort = $1),
         relayed AS (DELETE FROM secagg_messages WHERE cohort = $1)
         UPDATE secagg_members SET masked = NULL WHERE cohort = $1`,
        [cohort, phase, at, reason, survivors],
      )
    },
    async members(cohort) {
      return (await query(`SELECT * FROM secagg_members WHERE cohort = $1 ORDER BY id`, [cohort])).rows.map(
        toMember,
      )
    },
    memberByToken: (cohort, tokenHash) =>
      one(
        `SELECT * FROM secagg_members WHERE cohort = $1 AND token_hash = $2`,
        [cohort, tokenHash],
        toMember,
      ),
    memberByClient: (cohort, clientHash) =>
      one(
        `SELECT * FROM secagg_members WHERE cohort = $1 AND client_hash = $2`,
        [cohort, clientHash],
        toMember,
      ),
    async insertMember(m) {
      await insertRow(query, 'secagg_members', {
        cohort: m.cohort,
        id: m.id,
        client_hash: m.clientHash,
        token_hash: m.tokenHash,
        c_public_key: m.cPublicKey,
        s_public_key: m.sPublicKey,
      })
    },
    async insertMessage(cohort, id, kind, body) {
      const column = kind === 'shares' ? 'shared' : 'unmasked'
      await query(
        `WITH message AS (INSERT INTO secagg_messages (cohort, id, kind, body) VALUES ($1, $2, $3, $4))
         UPDATE secagg_members SET ${column} = true WHERE cohort = $1 AND id = $2`,
        [cohort, id, kind, body],
      )
    },
    message: (cohort, id, kind) =>
      one(
        `SELECT body FROM secagg_messages WHERE cohort = $1 AND id = $2 AND kind = $3`,
        [cohort, id, kind],
        (row) => text(asRow(row, 'secagg_messages'), 'body', 'secagg_messages'),
      ),
    async messages(cohort, kind) {
      const { rows } = await query(
        `SELECT id, body FROM secagg_messages WHERE cohort = $1 AND kind = $2 ORDER BY id`,
        [cohort, kind],
      )
      return rows.map((r) => {
        const row = asRow(r, 'secagg_messages')
        return { id: int(row, 'id', 'secagg_messages'), body: text(row, 'body', 'secagg_messages') }
      })
    },
    contributed: (round, clientHash) =>
      exists(
        query,
        `SELECT 1 FROM secagg_members m JOIN secagg_cohorts c ON c.cohort = m.cohort
         WHERE c.round = $1 AND c.phase = 'done' AND m.client_hash = $2 AND m.uploaded`,
        [round, clientHash],
      ),
    async pruneMembers(endedBefore) {
      const { rowCount } = await query(
        `DELETE FROM secagg_members WHERE cohort IN
           (SELECT cohort FROM secagg_cohorts WHERE closed_at IS NOT NULL AND closed_at < $1)`,
        [endedBefore],
      )
      return rowCount
    },
    async setMasked(cohort, id, masked) {
      await query(`UPDATE secagg_members SET masked = $1, uploaded = true WHERE cohort = $2 AND id = $3`, [
        masked,
        cohort,
        id,
      ])
    },
  }
}
