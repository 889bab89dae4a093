// What one sync reports: its counts, its bytes and where its time went.
import type { BackendName } from '@fedrec/core/client'

/** What one `sync()` did. */
export interface SyncReport {
  /** The round this device trained for. */
  round: number
  /** The global model version it trained on. */
  modelVersion: number
  /** The tfjs backend that trained: 'webgl', then 'wasm', then 'cpu' as fallbacks. */
  backend: BackendName
  /** n_k: training samples (positive/negative pairs) used; 0 when there was nothing to learn from. */
  samples: number
  /** Mean training loss of the last local epoch (NaN when nothing was trained). */
  loss: number
  /** Bytes this round sent: the update body (0 when nothing was uploaded). */
  bytesUp: number
  /** Bytes this round received: round info, model (0 when the cached one was current) and ack bodies. */
  bytesDown: number
  /** Wall time of the whole round on this device. */
  ms: number
  /** Whether an update was uploaded and acknowledged. */
  uploaded: boolean
  /** Where the time of the last attempt went (for benchmarks and profiling). */
  phases?: SyncPhases
  /** True when this sync sent again the update of an earlier sync of the round that was cut off. */
  resumed?: boolean
}

/** Wall time in ms of each part of one sync attempt; together about `ms`. */
export interface SyncPhases {
  /** GET /v1/round. */
  roundInfo: number
  /** The model made current: from memory, IndexedDB or the network, decoded. */
  model: number
  /** Choosing the tfjs backend (its first initialisation only). */
  backend: number
  /** The profile and the history read from IndexedDB. */
  history: number
  /** Next-item examples of the history and local training. */
  train: number
  /** Encoding the update. */
  encode: number
  /** POST /v1/updates until its ack. */
  upload: number
  /** IndexedDB writes: the profile (private vector, pseudo-items) and the round contributed to. */
  store: number
}

export const newPhases = (): SyncPhases => ({
  roundInfo: 0,
  model: 0,
  backend: 0,
  history: 0,
  train: 0,
  encode: 0,
  upload: 0,
  store: 0,
})

/** Runs `work`, adding its wall time to `phases[phase]` (also when it throws). */
export async function timed<T>(
  phases: SyncPhases,
  phase: keyof SyncPhases,
  work: () => T | Promise<T>,
): Promise<T> {
  const start = performance.now()
  try {
    return await work()
  } finally {
    phases[phase] += performance.now() - start
  }
}
