// What each simulated round reports, to the results file and to the CLI's progress bar and table, whichever
// way the round ran (in process or over HTTP).
import type { AttackReport } from './attack-observer.ts'
import type { Metrics } from './evaluate.ts'
import type { SecureRoundStats } from './secure-aggregation.ts'

/** One federated round as the results file lists it. */
export interface RoundRecord {
  /** 1-based, in the JSON and the printed table alike (over HTTP: the aggregator's round number + 1). */
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
  /** Mean bytes of one participant's encoded update (in-process mode only). */
  bytesUp?: number
  /** Mean seconds of one participant's `trainClientRound` (in-process mode only). */
  clientSeconds?: number
  /** Median, 90th percentile and maximum of the uploaded updates' L2 norms (after the client's DP clipping, if on; before the server's bounds). */
  clientNorm?: { median: number; p90: number; max: number }
  /** With DP: ε spent after this round at `--dp-delta`. */
  epsilon?: number
  /** With `--attack`: the curious aggregator's guesses of each participant's history, averaged. */
  attack?: AttackReport
  /** With `--secure-aggregation`: cohorts, drop-outs and the protocol's costs (bytesUp is then the protocol's). */
  secureAggregation?: SecureRoundStats
  /**
   * With `--endpoint`: the means this round's participants reported to the aggregator for the new model (only
   * a shopper whose update was accepted may report), which is what its status shows for that version.
   */
  reported?: { users: number; hr10: number; ndcg10: number }
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
