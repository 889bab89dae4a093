/** How the SQLite groups' calls run: on the outer store, each its own transaction in turn; or on an open transaction. */
import type Database from 'better-sqlite3'
import type { Serial } from '../../serial.ts'
import type { GroupRunner } from './async-groups.ts'

/**
 * The outer store's runner: each call waits its turn (an open transaction goes first) and runs as its own
 * transaction. Called from inside `transaction(fn)` it would wait for the transaction that waits for it:
 * refused with an Error naming the method.
 * @example const outer = outerRunner(db, createSerial('store'))
 */
export function outerRunner(db: Database.Database, turn: Serial): GroupRunner {
  return {
    call(method, f) {
      const refused = insideTurn(turn, method)
      if (refused) return Promise.reject(refused)
      return turn(method, async () => db.transaction(f)())
    },
    stream: (method, f) => streamInTurn(turn, method, f),
  }
}

/**
 * The runner of one open transaction: calls run at once (the transaction holds the turn). `open.ended` is set
 * when the transaction commits or rolls back: a `tx` kept past that is refused rather than writing outside it.
 * @example const tx = asyncGroups(sync, transactionRunner({ ended: false }))
 */
export function transactionRunner(open: { readonly ended: boolean }): GroupRunner {
  const refuseEnded = (method: string): Error =>
    new Error(
      `tx.${method}() was called after its transaction ended: use the tx only inside the function given to store.transaction(), and await every call there`,
    )
  return {
    call(method, f) {
      if (open.ended) return Promise.reject(refuseEnded(method))
      return new Promise((resolve) => resolve(f()))
    },
    async *stream(method, f) {
      if (open.ended) throw refuseEnded(method)
      for (const row of f()) yield row
    },
  }
}

/**
 * The error for an outer-store call from inside a turn (a transaction), or undefined outside one.
 * @example const refused = insideTurn(turn, 'transaction'); if (refused) throw refused
 */
export function insideTurn(turn: Serial, method: string): Error | undefined {
  const inside = turn.current()
  if (inside === undefined) return undefined
  return new Error(
    `store.${method}() was called on the store inside store.${inside}(): call tx.${method}() on the transaction that transaction() hands its function — the store waits for the transaction to end, and the transaction would wait for this call forever`,
  )
}

/**
 * Streams the rows of `f` while holding the turn: better-sqlite3 refuses every other statement on the
 * connection while an iterator is open, so nothing else runs until the iteration ends (or is broken off).
 */
async function* streamInTurn<R>(turn: Serial, method: string, f: () => Iterable<R>): AsyncGenerator<R> {
  const refused = insideTurn(turn, method)
  if (refused) throw refused
  let release = (): void => {}
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  let entered = (): void => {}
  const holding = new Promise<void>((resolve) => {
    entered = resolve
  })
  const section = turn(method, () => {
    entered()
    return released
  })
  await holding
  try {
    for (const row of f()) yield row
  } finally {
    release()
    await section
  }
}
