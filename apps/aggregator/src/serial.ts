/** One-at-a-time async sections: the per-process lock that keeps one state change from interleaving with another. */
import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Runs async sections one at a time, in the order they were asked for. A section that asks for the same lock
 * again from inside itself (its own async context) would wait for itself forever: that is refused with an
 * Error naming both, instead of hanging.
 */
export interface Serial {
  /** Runs `fn` once every section asked for before it has settled; settles as `fn` does. */
  <T>(what: string, fn: () => Promise<T>): Promise<T>
  /** The section running in the caller's async context, or undefined outside any section of this lock. */
  current(): string | undefined
  /**
   * Runs `fn` outside every section's context: what a section starts to run on its own later (a timer, a
   * background task) and that takes the lock itself then — inheriting the section's context, it would be
   * refused as nested while the section still runs.
   */
  detach<T>(fn: () => T): T
}

/**
 * A lock named `name` (for the error a nested call gets).
 * @example
 * const serial = createSerial('round')
 * await Promise.all([serial('upload a', submitA), serial('upload b', submitB)]) // b starts when a has settled
 */
export function createSerial(name: string): Serial {
  // A section is marked by a mutable holder: a timer or promise started inside a section keeps its async
  // context after the section ends, and must not be refused then.
  const context = new AsyncLocalStorage<{ what: string; running: boolean }>()
  let tail: Promise<unknown> = Promise.resolve()
  const current = (): string | undefined => {
    const held = context.getStore()
    return held?.running ? held.what : undefined
  }
  const run = <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const inside = current()
    if (inside !== undefined) {
      return Promise.reject(
        new Error(
          `${what} asked for the ${name} lock from inside ${inside}, which holds it: it would wait for itself forever`,
        ),
      )
    }
    const section = tail.then(() => {
      const held = { what, running: true }
      return context
        .run(held, () => fn())
        .finally(() => {
          held.running = false
        })
    })
    // The next section waits for this one to settle, whatever its outcome; the caller sees the outcome.
    tail = section.then(
      () => undefined,
      () => undefined,
    )
    return section
  }
  return Object.assign(run, { current, detach: <T>(fn: () => T): T => context.exit(fn) })
}
