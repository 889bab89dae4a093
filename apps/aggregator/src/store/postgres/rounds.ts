/** The `rounds` table on PostgreSQL (a reset also moves the round's updates to `discarded_updates`). */

import { toPrivacyRound, toRound } from '../records.ts'
import type { RoundStore } from '../rounds.ts'
import { StoreCorruptError } from '../rows.ts'
import type { PgContext } from './context.ts'
import { insertRow, updateRows } from './queries.ts'

/** @example const open = await postgresRounds(ctx).openRound() */
export function postgresRounds({ query, atomic }: PgContext): RoundStore {
  return {
    async openRound() {
      const { rows } = await query(`SELECT * FROM rounds WHERE closed_at IS NULL`)
      if (rows.length !== 1) throw new StoreCorruptError(`expected one open round, found ${rows.length}`)
      return toRound(rows[0])
    },

    async lockOpenRound(round, mode) {
      const { rows } = await query(
        `SELECT * FROM rounds WHERE round = $1 AND closed_at IS NULL ${mode === 'update' ? 'FOR UPDATE' : 'FOR SHARE'}`,
        [round],
      )
      return rows.length === 0 ? undefined : toRound(rows[0])
    },

    async insertRound(r) {
      await insertRow(query, 'rounds', {
        round: r.round,
        model_version: r.modelVersion,
        opened_at: r.openedAt,
        deadline: r.deadline,
        closed_at: r.closedAt,
        closed_by: r.closedBy,
        participants: r.participants,
        samples: r.samples,
        update_norm: r.updateNorm,
        client_norm_mean: r.clientNormMean,
        client_norm_max: r.clientNormMax,
        clipped: r.clipped,
        resets: r.resets,
        discarded: r.discarded,
      })
    },

    async setDeadline(round, deadline) {
      await query(`UPDATE rounds SET deadline = $1 WHERE round = $2`, [deadline, round])
    },

    resetRound(round, { at, deadline }) {
      // All or nothing even outside a transaction: a reset of a round that is not open moves no key.
      return atomic(async (tx) => {
        const { rowCount: discarded } = await tx.query(
          `WITH gone AS (DELETE FROM updates WHERE round = $2 RETURNING idempotency_key, client_hash, round, seq)
           INSERT INTO discarded_updates (idempotency_key, client_hash, round, discarded_at)
           SELECT idempotency_key, client_hash, round, $1 FROM gone ORDER BY seq`,
          [at, round],
        )
        const { rowCount } = await tx.query(
          `UPDATE rounds SET opened_at = $1, deadline = $2, resets = resets + 1, discarded = discarded + $3
           WHERE round = $4 AND closed_at IS NULL`,
          [at, deadline, discarded, round],
        )
        if (rowCount !== 1) throw new StoreCorruptError(`round ${round} is not open`)
        return discarded
      })
    },

    async closeRound(round, c) {
      // Without DP the dp_ columns stay NULL, as they were: only this statement writes them.
      const rowCount = await updateRows(
        query,
        'rounds',
        {
          closed_at: c.closedAt,
          closed_by: c.closedBy,
          participants: c.participants,
          samples: c.samples,
          update_norm: c.updateNorm,
          client_norm_mean: c.clientNormMean,
          client_norm_max: c.clientNormMax,
          clipped: c.clipped,
          dp_noise_multiplier: c.dp?.noiseMultiplier ?? null,
          dp_sample_rate: c.dp?.sampleRate ?? null,
          dp_clip_norm: c.dp?.clipNorm ?? null,
        },
        { round, closed_at: null },
      )
      if (rowCount !== 1) throw new StoreCorruptError(`round ${round} is not open`)
    },

    async privacyRounds() {
      const { rows } = await query(
        `SELECT round, participants, dp_noise_multiplier, dp_sample_rate, dp_clip_norm FROM rounds
         WHERE closed_at IS NOT NULL ORDER BY round`,
      )
      return rows.map(toPrivacyRound)
    },

    async history(limit) {
      const { rows } = await query(
        `SELECT * FROM (SELECT * FROM rounds WHERE closed_at IS NOT NULL ORDER BY round DESC LIMIT $1) recent
         ORDER BY round`,
        [limit],
      )
      return rows.map(toRound)
    },
  }
}
