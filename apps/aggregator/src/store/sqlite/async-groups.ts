/** The SQLite table groups, synchronous like better-sqlite3, turned into the store's async groups by a runner. */

/**
 * A group interface with its answers unwrapped: what a SQLite group implements (better-sqlite3 answers at
 * once), a `Promise<R>` becoming `R` and an `AsyncIterable<R>` an `Iterable<R>`.
 */
export type SyncGroup<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R>
    ? (...args: A) => R
    : T[K] extends (...args: infer A) => AsyncIterable<infer R>
      ? (...args: A) => Iterable<R>
      : T[K]
}

/** How a group's calls run: on the outer store (each its own transaction, in turn) or on an open one. */
export interface GroupRunner {
  /** Runs one synchronous call; a throw becomes the rejection. */
  call<R>(method: string, f: () => R): Promise<R>
  /** Streams one synchronous iterator (a statement's rows). */
  stream<R>(method: string, f: () => Iterable<R>): AsyncIterable<R>
}

/** The methods that answer with an `AsyncIterable` (streamed rows) rather than a `Promise`. */
const STREAMED: ReadonlySet<string> = new Set(['roundPayloads'])

/**
 * The async group over a synchronous one: every method goes through `runner`.
 * @example const rounds: RoundStore = asyncGroup<RoundStore>(sqliteRounds(ctx), runner)
 */
export function asyncGroup<T extends object>(sync: SyncGroup<T>, runner: GroupRunner): T {
  const group: Record<string, unknown> = {}
  for (const [method, f] of Object.entries(sync)) {
    if (typeof f !== 'function') continue
    // The group's own function, called with what the caller passed: its signature is SyncGroup<T>'s.
    const impl = f as (...args: unknown[]) => unknown
    group[method] = STREAMED.has(method)
      ? (...args: unknown[]) => runner.stream(method, () => impl.apply(sync, args) as Iterable<unknown>)
      : (...args: unknown[]) => runner.call(method, () => impl.apply(sync, args))
  }
  // Each method of T is SyncGroup<T>'s, its answer wrapped as T declares (STREAMED names the iterables).
  return group as T
}
