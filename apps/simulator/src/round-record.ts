import type { Metrics } from './evaluate.ts'

/** One federated round as the results file lists it. */
export interface RoundRecord {
  round: number
  /** Model version evaluated after the round (the aggregate of this round). */
  modelVersion: number
  participants: number
  samples: number
  /** Mean local training loss of the participants' last epoch. */
  loss: number
  /** L2 norm of the change the server step applied (in-process mode only; null over HTTP). */
  updateNorm: number | null
  /** Federated evaluation on the test items: each shopper ranks its own, only sums are added up. */
  hr10: number
  ndcg10: number
  validation: Metrics
  /** Wall time of the round (training, aggregation and evaluation). */
  seconds: number
}

/** Callbacks the CLI uses for its progress bar and table. */
export interface Progress {
  /** A shopper finished its local round. */
  client?: () => void
  round?: (record: RoundRecord) => void
  /** A new phase; for 'federated', `total` is the number of shopper rounds it will run (unknown over HTTP). */
  phase?: (name: string, total?: number) => void
  warn?: (message: string) => void
}
