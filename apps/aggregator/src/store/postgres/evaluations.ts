/** The tables `evaluations` (totals per model version) and `evaluation_reports` (counted keys) on PostgreSQL. */
import type { EvaluationStore } from '../evaluations.ts'
import { toEvaluationKey, toEvaluationTotals } from '../records.ts'
import type { PgContext } from './context.ts'
import { exists, first } from './queries.ts'

/** @example await postgresEvaluations(ctx).evaluations(10) // the last ten versions' totals */
export function postgresEvaluations({ query, isolated }: PgContext): EvaluationStore {
  return {
    findEvaluation: (key) =>
      first(query, `SELECT * FROM evaluation_reports WHERE idempotency_key = $1`, [key], toEvaluationKey),

    hasClientEvaluated: (modelVersion, clientHash) =>
      exists(query, `SELECT 1 FROM evaluation_reports WHERE model_version = $1 AND client_hash = $2`, [
        modelVersion,
        clientHash,
      ]),

    async insertEvaluation(e) {
      // One statement: the key and the sums together, or neither (a repeated key or client adds nothing);
      // isolated, so that inside a transaction it fails alone, as SQLite's nested transaction does.
      await isolated(
        `WITH report AS (
           INSERT INTO evaluation_reports (idempotency_key, client_hash, model_version, received_at)
           VALUES ($1, $2, $3, $4))
         INSERT INTO evaluations (model_version, users, hits10, ndcg10) VALUES ($3, $5, $6, $7)
         ON CONFLICT (model_version) DO UPDATE SET users = evaluations.users + excluded.users,
           hits10 = evaluations.hits10 + excluded.hits10, ndcg10 = evaluations.ndcg10 + excluded.ndcg10`,
        [e.idempotencyKey, e.clientHash, e.modelVersion, e.receivedAt, e.users, e.hits10, e.ndcg10],
      )
    },

    async evaluations(limit) {
      const { rows } = await query(
        `SELECT * FROM (SELECT * FROM evaluations ORDER BY model_version DESC LIMIT $1) recent
         ORDER BY model_version`,
        [limit],
      )
      return rows.map(toEvaluationTotals)
    },

    async pruneEvaluationKeys(minVersion) {
      return (await query(`DELETE FROM evaluation_reports WHERE model_version < $1`, [minVersion])).rowCount
    },
  }
}
