/** The tables `updates` and `discarded_updates` on SQLite. */
import { asRow, blob, int, nullable, real, text } from '../rows.ts'
import type { UpdateRecord, UpdateStore } from '../updates.ts'
import type { SyncGroup } from './async-groups.ts'
import type { SqliteContext } from './statements.ts'

/** @example const ack = sqliteUpdates(ctx).findUpdate(key)?.ack */
export function sqliteUpdates({ sql }: SqliteContext): SyncGroup<UpdateStore> {
  return {
    findUpdate(key) {
      const row = sql(`SELECT * FROM updates WHERE idempotency_key = ?`).get(key)
      return row === undefined ? undefined : toUpdate(row)
    },

    findDiscarded(key) {
      const row = sql(`SELECT client_hash, round FROM discarded_updates WHERE idempotency_key = ?`).get(key)
      if (row === undefined) return undefined
      const r = asRow(row, 'discarded_updates')
      return {
        clientHash: text(r, 'client_hash', 'discarded_updates'),
        round: int(r, 'round', 'discarded_updates'),
      }
    },

    hasClientSubmitted(round, clientHash) {
      return (
        sql(`SELECT 1 FROM updates WHERE round = ? AND client_hash = ?`).get(round, clientHash) !== undefined
      )
    },

    insertUpdate(u) {
      sql(
        `INSERT INTO updates (idempotency_key, client_hash, round, sample_count, payload, ack, received_at, norm, clipped)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        u.idempotencyKey,
        u.clientHash,
        u.round,
        u.sampleCount,
        u.payload,
        u.ack,
        u.receivedAt,
        u.norm,
        u.clipped ? 1 : 0,
      )
    },

    deleteUpdate(key) {
      sql(`DELETE FROM updates WHERE idempotency_key = ?`).run(key)
    },

    roundTally(round) {
      const row = asRow(
        sql(
          `SELECT count(*) AS participants, coalesce(sum(sample_count), 0) AS samples FROM updates WHERE round = ?`,
        ).get(round),
        'updates',
      )
      return { participants: int(row, 'participants', 'updates'), samples: int(row, 'samples', 'updates') }
    },

    roundNorms(round) {
      const row = asRow(
        sql(
          `SELECT coalesce(avg(norm), 0) AS mean, coalesce(max(norm), 0) AS max, coalesce(sum(clipped), 0) AS clipped
           FROM updates WHERE round = ?`,
        ).get(round),
        'updates',
      )
      return {
        mean: real(row, 'mean', 'updates'),
        max: real(row, 'max', 'updates'),
        clipped: int(row, 'clipped', 'updates'),
      }
    },

    pruneUpdates(closedBefore) {
      const closed = `SELECT round FROM rounds WHERE closed_at IS NOT NULL AND closed_at < ?`
      return (
        sql(`DELETE FROM updates WHERE round IN (${closed})`).run(closedBefore).changes +
        sql(`DELETE FROM discarded_updates WHERE round IN (${closed})`).run(closedBefore).changes
      )
    },

    *roundPayloads(round) {
      const rows = sql(`SELECT payload FROM updates WHERE round = ? AND payload IS NOT NULL ORDER BY rowid`)
        .pluck()
        .iterate(round)
      for (const payload of rows) yield blob({ payload }, 'payload', `updates of round ${round}`)
    },

    dropPayloads(round) {
      sql(`UPDATE updates SET payload = NULL WHERE round = ?`).run(round)
    },
  }
}

function toUpdate(input: unknown): UpdateRecord {
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
    clipped: int(row, 'clipped', 'updates') !== 0,
  }
}
