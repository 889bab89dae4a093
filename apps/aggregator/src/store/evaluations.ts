/** Federated evaluation: the sums clients reported per model version, and the keys of counted reports. */

/** Federated-evaluation sums of one model version. */
export interface EvaluationTotals {
  modelVersion: number
  users: number
  hits10: number
  ndcg10: number
}

/** One evaluation report as counted: its sums and who sent it under which key. */
export type EvaluationReport = EvaluationTotals & {
  idempotencyKey: string
  clientHash: string
  receivedAt: string
}

/** Evaluation totals per model version and the reports counted into them. */
export interface EvaluationStore {
  /**
   * The client (salted hash) and model version of the report counted under this key, while its version is
   * still taken; `clientHash` is null for a report counted before reports were bound to clients.
   */
  findEvaluation(
    idempotencyKey: string,
  ): Promise<{ clientHash: string | null; modelVersion: number } | undefined>
  hasClientEvaluated(modelVersion: number, clientHash: string): Promise<boolean>
  /** Records a report's key and client and adds its sums to its model version's totals. */
  insertEvaluation(report: EvaluationReport): Promise<void>
  /** Evaluation totals, oldest version first, at most the `limit` most recent versions. */
  evaluations(limit: number): Promise<EvaluationTotals[]>
  /** Forgets the idempotency keys of reports on versions below `minVersion` (no longer accepted). */
  pruneEvaluationKeys(minVersion: number): Promise<number>
}
