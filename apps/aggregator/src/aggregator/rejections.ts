/** Rejection counters: refused updates counted by error code, written to the store at most once a second. */
import { logError } from '../error-log.ts'
import type { AggregatorState } from './state.ts'

/** Rejection counters are written at most this often: a flood of bad requests must not become a flood of fsyncs. */
const REJECTION_FLUSH_MS = 1000

/**
 * Counts refusals in memory and writes them in batches.
 * @example rejections.record('stale_model'); (await rejections.counts()).stale_model // ≥ 1
 */
export interface RejectionCounter {
  /** Counts a refused update under its error code (written to the store within a second). */
  record(code: string): void
  /** Writes the counters now; a failed write is logged and the counters kept for the next flush. */
  flush(): Promise<void>
  /** The stored counters plus those not written yet. */
  counts(): Promise<Record<string, number>>
}

export function createRejectionCounter(s: Pick<AggregatorState, 'store' | 'closed'>): RejectionCounter {
  const pending = new Map<string, number>()
  let timer: NodeJS.Timeout | undefined
  const flush = async (): Promise<void> => {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (pending.size === 0) return
    // What is written is taken out now: a rejection recorded while the write is under way stays pending.
    const writing = new Map(pending)
    pending.clear()
    try {
      await s.store.addRejections(writing)
    } catch (err) {
      for (const [code, n] of writing) pending.set(code, (pending.get(code) ?? 0) + n)
      // Counters only: keep them in memory and try again with the next rejection.
      logError('rejection_counters_write_failed', err)
    }
  }
  return {
    record(code) {
      pending.set(code, (pending.get(code) ?? 0) + 1)
      if (!timer && !s.closed) {
        // flush logs a failed write itself, so its promise never rejects.
        timer = setTimeout(() => void flush(), REJECTION_FLUSH_MS)
        timer.unref()
      }
    },
    flush,
    async counts() {
      const counts = await s.store.rejections()
      for (const [code, n] of pending) counts[code] = (counts[code] ?? 0) + n
      return counts
    },
  }
}
