/** The tables `evaluations` (totals per model version) and `evaluation_reports` (counted keys) on SQLite. */
import type { EvaluationStore } from '../evaluations.ts'
import { asRow, int, nullable, real, text } from '../rows.ts'
import type { SyncGroup } from './async-groups.ts'
import type { SqliteContext } from './statements.ts'

/** @example sqliteEvaluations(ctx).evaluations(10) // the last ten versions' totals */
export function sqliteEvaluations({ db, sql }: SqliteContext): SyncGroup<EvaluationStore> {
  return {
    findEvaluation(key) {
      const row = sql(
        `SELECT client_hash, model_version FROM evaluation_reports WHERE idempotency_key = ?`,
      ).get(key)
      if (row === undefined) return undefined
      const r = asRow(row, 'evaluation_reports')
      return {
        clientHash: nullable(r, 'client_hash', 'evaluation_reports', text),
        modelVersion: int(r, 'model_version', 'evaluation_reports'),
      }
    },

    hasClientEvaluated(modelVersion, clientHash) {
      return (
        sql(`SELECT 1 FROM evaluation_reports WHERE model_version = ? AND client_hash = ?`).get(
          modelVersion,
          clientHash,
        ) !== undefined
      )
    },

    insertEvaluation(e) {
      db.transaction(() => {
        sql(
          `INSERT INTO evaluation_reports (idempotency_key, client_hash, model_version, received_at) VALUES (?, ?, ?, ?)`,
        ).run(e.idempotencyKey, e.clientHash, e.modelVersion, e.receivedAt)
        sql(
          `INSERT INTO evaluations (model_version, users, hits10, ndcg10) VALUES (?, ?, ?, ?)
           ON CONFLICT (model_version) DO UPDATE SET users = users + excluded.users,
             hits10 = hits10 + excluded.hits10, ndcg10 = ndcg10 + excluded.ndcg10`,
        ).run(e.modelVersion, e.users, e.hits10, e.ndcg10)
      })()
    },

    evaluations(limit) {
      return sql(
        `SELECT * FROM (SELECT * FROM evaluations ORDER BY model_version DESC LIMIT ?) ORDER BY model_version`,
      )
        .all(limit)
        .map((r) => {
          const row = asRow(r, 'evaluations')
          return {
            modelVersion: int(row, 'model_version', 'evaluations'),
            users: int(row, 'users', 'evaluations'),
            hits10: real(row, 'hits10', 'evaluations'),
            ndcg10: real(row, 'ndcg10', 'evaluations'),
          }
        })
    },

    pruneEvaluationKeys(minVersion) {
      return sql(`DELETE FROM evaluation_reports WHERE model_version < ?`).run(minVersion).changes
    },
  }
}
