/** How the PostgreSQL store names a driver's errors: a lost server, or a write another transaction won. */
import { logError } from '../../error-log.ts'
import { StoreLostError } from '../../errors.ts'

/**
 * A write refused by a unique constraint: another transaction (on another connection, maybe another
 * aggregator) stored the same key first. The first writer's row stands; nothing of the refused write did.
 * @example if (err instanceof StoreConflictError) return await store.findUpdate(key) // answer with the winner's ack
 */
export class StoreConflictError extends Error {
  override name = 'StoreConflictError'
  /** The constraint that refused the write, e.g. `updates_pkey`. */
  readonly constraint: string

  constructor(message: string, constraint: string, options?: { cause?: unknown }) {
    super(message, options)
    this.constraint = constraint
  }
}

/** The fields of a driver error this file reads, each checked: errors arrive as `unknown`. */
function field(err: unknown, key: 'code' | 'constraint' | 'detail' | 'message'): string | undefined {
  if (typeof err !== 'object' || err === null || !(key in err)) return undefined
  const value: unknown = Reflect.get(err, key)
  return typeof value === 'string' ? value : undefined
}

/** Socket errors, and SQLSTATEs of a connection that failed or a server shutting down or starting. */
const LOST_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
])

/**
 * True when `err` means the server cannot be reached. node-postgres gives a connection cut mid-query no code,
 * only its message ("Connection terminated unexpectedly", "… due to connection timeout").
 */
export function isConnectionLost(err: unknown): boolean {
  const code = field(err, 'code')
  if (code !== undefined && (LOST_CODES.has(code) || code.startsWith('08'))) return true
  return /^Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    field(err, 'message') ?? '',
  )
}

/**
 * Turns a driver error into the store's: a lost server into StoreLostError (logged once until a query
 * succeeds again, so a down database does not flood the log), a unique violation into StoreConflictError;
 * others as they are.
 * @example throw storeError(err, path, state)
 */
export function storeError(err: unknown, path: string, state: { lostLogged: boolean }): unknown {
  if (isConnectionLost(err)) {
    const lost = new StoreLostError(
      `store ${path} is unreachable (${field(err, 'message') ?? String(err)}): nothing can be written, so updates are refused until the database answers again`,
      { cause: err },
    )
    if (!state.lostLogged) logError('store_lost', lost, { store: path })
    state.lostLogged = true
    return lost
  }
  if (field(err, 'code') === '23505') {
    const constraint = field(err, 'constraint') ?? 'unknown'
    return new StoreConflictError(
      `store ${path}: another transaction stored this first (${field(err, 'detail') ?? field(err, 'message')}, constraint ${constraint})`,
      constraint,
      { cause: err },
    )
  }
  return err
}
