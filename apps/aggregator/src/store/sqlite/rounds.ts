/** The `rounds` table on SQLite (a reset also moves the round's updates to `discarded_updates`). */

import { toPrivacyRound, toRound } from '../records.ts'
import type { RoundStore } from '../rounds.ts'
import { StoreCorruptError } from '../rows.ts'
import type { SyncGroup } from './async-groups.ts'
import type { SqliteContext } from './statements.ts'

/** @example const open = sqliteRounds(ctx).openRound() */
export function sqliteRounds({ sql }: SqliteContext): SyncGroup<RoundStore> {
  return {
    openRound() {
      const rows = sql(`SELECT * FROM rounds WHERE closed_at IS NULL`).all()
      if (rows.length !== 1) throw new StoreCorruptError(`expected one open round, found ${rows.length}`)
      return toRound(rows[0])
    },

    lockOpenRound(round) {
      const row = sql(`SELECT * FROM rounds WHERE round = ? AND closed_at IS NULL`).get(round)
      return row === undefined ? undefined : toRound(row)
    },

    insertRound(r) {
      sql(
        `INSERT INTO rounds (round, model_version, opened_at, deadline, closed_at, closed_by, participants, samples,
           update_norm, client_norm_mean, client_norm_max, clipped, resets, discarded)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        r.round,
        r.modelVersion,
        r.openedAt,
        r.deadline,
        r.closedAt,
        r.closedBy,
        r.participants,
        r.samples,
        r.updateNorm,
        r.clientNormMean,
        r.clientNormMax,
        r.clipped,
        r.resets,
        r.discarded,
      )
    },

    setDeadline(round, deadline) {
      sql(`UPDATE rounds SET deadline = ? WHERE round = ?`).run(deadline, round)
    },

    resetRound(round, { at, deadline }) {
      sql(
        `INSERT INTO discarded_updates (idempotency_key, client_hash, round, discarded_at)
         SELECT idempotency_key, client_hash, round, ? FROM updates WHERE round = ?`,
      ).run(at, round)
      const { changes: discarded } = sql(`DELETE FROM updates WHERE round = ?`).run(round)
      const { changes } = sql(
        `UPDATE rounds SET opened_at = ?, deadline = ?, resets = resets + 1, discarded = discarded + ?
         WHERE round = ? AND closed_at IS NULL`,
      ).run(at, deadline, discarded, round)
      if (changes !== 1) throw new StoreCorruptError(`round ${round} is not open`)
      return discarded
    },

    closeRound(round, c) {
      const { changes } = sql(
        `UPDATE rounds SET closed_at = ?, closed_by = ?, participants = ?, samples = ?, update_norm = ?,
           client_norm_mean = ?, client_norm_max = ?, clipped = ?
         WHERE round = ? AND closed_at IS NULL`,
      ).run(
        c.closedAt,
        c.closedBy,
        c.participants,
        c.samples,
        c.updateNorm,
        c.clientNormMean,
        c.clientNormMax,
        c.clipped,
        round,
      )
      if (changes !== 1) throw new StoreCorruptError(`round ${round} is not open`)
      if (c.dp)
        sql(
          `UPDATE rounds SET dp_noise_multiplier = ?, dp_sample_rate = ?, dp_clip_norm = ? WHERE round = ?`,
        ).run(c.dp.noiseMultiplier, c.dp.sampleRate, c.dp.clipNorm, round)
    },

    privacyRounds() {
      return sql(
        `SELECT round, participants, dp_noise_multiplier, dp_sample_rate, dp_clip_norm FROM rounds
         WHERE closed_at IS NOT NULL ORDER BY round`,
      )
        .all()
        .map(toPrivacyRound)
    },

    history(limit) {
      return sql(
        `SELECT * FROM (SELECT * FROM rounds WHERE closed_at IS NOT NULL ORDER BY round DESC LIMIT ?) ORDER BY round`,
      )
        .all(limit)
        .map(toRound)
    },
  }
}
