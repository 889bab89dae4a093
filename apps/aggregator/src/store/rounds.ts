/** Training rounds: the open one, how each closed, operator resets, and what the privacy accountant needs. */

/** One round: open while `closedAt` is null. */
export interface RoundRecord {
  round: number
  modelVersion: number
  openedAt: string
  deadline: string
  closedAt: string | null
  closedBy: 'quorum' | 'deadline' | null
  participants: number | null
  samples: number | null
  updateNorm: number | null
  /** Mean and largest L2 norm of the accepted client updates (after clipping); null while open. */
  clientNormMean: number | null
  clientNormMax: number | null
  /** Accepted updates whose norm was clipped; null while open. */
  clipped: number | null
  /** Operator resets of this round (each one discarded its accepted updates and reopened it). */
  resets: number
  /** Accepted updates that those resets discarded. */
  discarded: number
}

/** How a round ended, written when it closes. */
export interface RoundClosing {
  closedAt: string
  closedBy: 'quorum' | 'deadline'
  participants: number
  samples: number
  updateNorm: number
  clientNormMean: number
  clientNormMax: number
  clipped: number
  /** DP-FedAvg parameters the round closed with (absent: no DP); what the accountant composes. */
  dp?: PrivacyRound
}

/** One closed round as the privacy accountant needs it. */
export interface PrivacyRound {
  /** σ of the round (noise stddev σ·S on the sum). */
  noiseMultiplier: number
  /** q the round was accounted with. */
  sampleRate: number
  /** S of the round. */
  clipNorm: number
}

/** The rounds: exactly one is open at a time. */
export interface RoundStore {
  /** @throws StoreCorruptError unless exactly one round is open */
  openRound(): Promise<RoundRecord>
  /**
   * The record of `round` if it is still open, else undefined; in a transaction on PostgreSQL the row stays
   * locked until the transaction ends: `share` (an upload: many at once, and no close meanwhile) or `update`
   * (a close or a reset: alone, after the uploads holding it have committed). SQLite has one writer anyway.
   */
  lockOpenRound(round: number, mode: 'share' | 'update'): Promise<RoundRecord | undefined>
  insertRound(round: RoundRecord): Promise<void>
  setDeadline(round: number, deadline: string): Promise<void>
  /**
   * The operator reset of an open round, to run inside `transaction()` with nothing else: moves the keys of
   * its accepted updates to `discarded_updates` (payloads and acks go), so neither a replay nor a retry
   * counts them again, and reopens the round with `openedAt` and `deadline`, counting the reset. Returns how
   * many updates were discarded.
   */
  resetRound(round: number, reopen: { at: string; deadline: string }): Promise<number>
  closeRound(round: number, closing: RoundClosing): Promise<void>
  /** Closed rounds, oldest first, at most the `limit` most recent. */
  history(limit: number): Promise<RoundRecord[]>
  /** Every closed round, oldest first, with its DP parameters (null: closed without DP). */
  privacyRounds(): Promise<{ round: number; participants: number; dp: PrivacyRound | null }[]>
}
