/** Errors from the library in words: the status line for shoppers, and the key a warning is logged once under. */
import { type FedrecErrorCode, isFedrecError } from '@fedrec/browser'

/** The key a failure's warning is logged once under: the library's code, else the error's name. */
export const errorKey = (err: unknown): string =>
  isFedrecError(err) ? err.code : err instanceof Error ? err.name : 'unknown'

/** The status line for a failed round: short, for shoppers; the details go to console.warn. */
export function describeSyncError(err: unknown): string {
  if (!isFedrecError(err)) return 'Learning paused: sync failed'
  const code: FedrecErrorCode = err.code
  switch (code) {
    case 'network':
      return 'Learning paused: aggregator unreachable'
    case 'rejected':
    case 'already_submitted':
      return 'Learning paused: the aggregator turned this update down'
    case 'no_backend':
      return "Learning paused: this browser can't run the model"
    case 'storage':
      return 'Learning paused: on-device storage is unavailable'
    case 'closed':
      return 'Learning stopped'
    case 'paused':
      return 'Learning paused by you'
    case 'secagg_aborted':
      return 'Learning paused: too few shoppers online to learn privately; trying again later'
    case 'server_error':
      return 'Learning paused: the aggregator is having trouble; trying again later'
    case 'corrupt_model':
      return 'Learning paused: the shared model arrived damaged; trying again later'
    case 'bad_option':
    case 'bad_event':
    case 'internal':
      return 'Learning paused: sync failed'
    default: {
      const unreachable: never = code
      return unreachable
    }
  }
}
