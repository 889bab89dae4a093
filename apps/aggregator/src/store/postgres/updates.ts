/** The tables `updates` and `discarded_updates` on PostgreSQL. */

import { toDiscarded, toUpdate } from '../records.ts'
import { asRow, blob, int, real } from '../rows.ts'
import type { UpdateStore } from '../updates.ts'
import type { PgContext } from './context.ts'
import { exists, first, insertRow } from './queries.ts'

/**
 * Payloads fetched per round trip while streaming a round: few enough that a round of large updates never
 * sits in memory at once, enough that a round of small ones is not one round trip per update.
 */
const PAYLOAD_BATCH = 16

/** @example const ack = (await postgresUpdates(ctx).findUpdate(key))?.ack */
export function postgresUpdates({ query, cursor }: PgContext): UpdateStore {
  return {
    findUpdate: (key) => first(query, `SELECT * FROM updates WHERE idempotency_key = $1`, [key], toUpdate),

    findDiscarded: (key) =>
      first(query, `SELECT * FROM discarded_updates WHERE idempotency_key = $1`, [key], toDiscarded),

    hasClientSubmitted: (round, clientHash) =>
      exists(query, `SELECT 1 FROM updates WHERE round = $1 AND client_hash = $2`, [round, clientHash]),

    async insertUpdate(u) {
      await insertRow(query, 'updates', {
        idempotency_key: u.idempotencyKey,
        client_hash: u.clientHash,
        round: u.round,
        sample_count: u.sampleCount,
        payload: u.payload,
        ack: u.ack,
        received_at: u.receivedAt,
        norm: u.norm,
        clipped: u.clipped,
      })
    },

    async deleteUpdate(key) {
      await query(`DELETE FROM updates WHERE idempotency_key = $1`, [key])
    },

    async roundTally(round) {
      const { rows } = await query(
        `SELECT count(*) AS participants, coalesce(sum(sample_count), 0)::bigint AS samples FROM updates WHERE round = $1`,
        [round],
      )
      const row = asRow(rows[0], 'updates')
      return { participants: int(row, 'participants', 'updates'), samples: int(row, 'samples', 'updates') }
    },

    async roundNorms(round) {
      const { rows } = await query(
        `SELECT coalesce(avg(norm), 0) AS mean, coalesce(max(norm), 0) AS max, count(*) FILTER (WHERE clipped) AS clipped
         FROM updates WHERE round = $1`,
        [round],
      )
      const row = asRow(rows[0], 'updates')
      return {
        mean: real(row, 'mean', 'updates'),
        max: real(row, 'max', 'updates'),
        clipped: int(row, 'clipped', 'updates'),
      }
    },

    async pruneUpdates(closedBefore) {
      // One statement: both tables or neither.
      const { rows } = await query(
        `WITH closed AS (SELECT round FROM rounds WHERE closed_at IS NOT NULL AND closed_at < $1),
           acks AS (DELETE FROM updates WHERE round IN (SELECT round FROM closed) RETURNING 1),
           keys AS (DELETE FROM discarded_updates WHERE round IN (SELECT round FROM closed) RETURNING 1)
         SELECT (SELECT count(*) FROM acks) + (SELECT count(*) FROM keys) AS n`,
        [closedBefore],
      )
      return int(asRow(rows[0], 'updates'), 'n', 'pruned updates')
    },

    async *roundPayloads(round) {
      const batches = cursor(
        `SELECT payload FROM updates WHERE round = $1 AND payload IS NOT NULL ORDER BY seq`,
        [round],
        PAYLOAD_BATCH,
      )
      for await (const rows of batches)
        for (const row of rows) yield blob(asRow(row, 'updates'), 'payload', `updates of round ${round}`)
    },

    async dropPayloads(round) {
      await query(`UPDATE updates SET payload = NULL WHERE round = $1`, [round])
    },
  }
}
