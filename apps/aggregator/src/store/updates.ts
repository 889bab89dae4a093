/** Accepted client updates: their payloads until the round closes, their acks for idempotent retries. */

/** One accepted update; `payload` is null once its round has closed. */
export interface UpdateRecord {
  idempotencyKey: string
  clientHash: string
  round: number
  sampleCount: number
  payload: Uint8Array | null
  /** The UpdateAck JSON answered when it was accepted. */
  ack: string
  receivedAt: string
  /** L2 norm of the update as counted (after clipping). */
  norm: number
  /** True when the norm bound scaled this update down; `payload` then holds the scaled update. */
  clipped: boolean
}

/** The accepted updates, and the keys of those an operator reset discarded. */
export interface UpdateStore {
  findUpdate(idempotencyKey: string): Promise<UpdateRecord | undefined>
  /** The update under this key if an operator reset discarded it (until its round's acks are pruned). */
  findDiscarded(idempotencyKey: string): Promise<{ clientHash: string; round: number } | undefined>
  hasClientSubmitted(round: number, clientHash: string): Promise<boolean>
  insertUpdate(update: UpdateRecord): Promise<void>
  deleteUpdate(idempotencyKey: string): Promise<void>
  /** Norm statistics of a round's accepted updates so far. */
  /** Updates stored for `round` (not discarded) and the sum of their sample counts. */
  roundTally(round: number): Promise<{ participants: number; samples: number }>
  roundNorms(round: number): Promise<{ mean: number; max: number; clipped: number }>
  /**
   * Forgets the acks (and discarded keys) of rounds that closed before `closedBefore` (ISO): a retry that
   * late gets `round_closed` instead of its ack. Returns how many rows went.
   */
  pruneUpdates(closedBefore: string): Promise<number>
  /**
   * Payloads of a round's accepted updates in acceptance order, streamed one at a time (a round can hold
   * more than fits in memory at once). No writes until the iteration ends.
   */
  roundPayloads(round: number): AsyncIterable<Uint8Array>
  dropPayloads(round: number): Promise<void>
}
