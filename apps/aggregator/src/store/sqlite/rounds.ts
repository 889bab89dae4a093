/** The `rounds` table on SQLite (a reset also moves the round's updates to `discarded_updates`). */
import type { RoundRecord, RoundStore } from '../rounds.ts'
import { asRow, int, nullable, real, StoreCorruptError, text } from '../rows.ts'
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
        .map((input) => {
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
        })
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

function toRound(input: unknown): RoundRecord {
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
