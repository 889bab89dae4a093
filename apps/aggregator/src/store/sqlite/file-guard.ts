/** Checks on the store's file itself: writable when opened, and still the same file while the aggregator runs. */
import { accessSync, constants, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { logError } from '../../error-log.ts'
import { StartupError, StoreLostError } from '../../errors.ts'

/**
 * The aggregator writes every accepted update to the store (and SQLite its write-ahead log beside it): a file
 * or folder it cannot write would otherwise surface as SQLite's "disk I/O error", which reads like damage.
 * @throws StartupError naming the file or folder and the errno code
 */
export function checkWritable(path: string): void {
  for (const [what, target] of [
    ['file', path],
    ['folder', dirname(path)],
  ] as const) {
    try {
      accessSync(target, constants.W_OK)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err)
      throw new StartupError(
        `store ${path} is not writable (${code} on its ${what} ${target}): the aggregator writes every accepted update to it; give the user it runs as write access to the file and its folder, or mount the volume read-write`,
        { cause: err },
      )
    }
  }
}

/**
 * A check that the file at `path` is still the one there now (`':memory:'`: always). The file's identity
 * when opened: a later stat that finds nothing, or another file, means the store was deleted or replaced,
 * and SQLite would go on writing into an unlinked file that no restart can find.
 * @example const checkPresent = presenceCheck(path); checkPresent() // throws StoreLostError once it is gone
 */
export function presenceCheck(path: string): () => void {
  const opened = path === ':memory:' ? null : statSync(path)
  let lostLogged = false
  return (): void => {
    if (!opened) return
    let why: string | null = null
    try {
      const now = statSync(path)
      if (now.ino !== opened.ino || now.dev !== opened.dev) why = 'another file is at its path now'
    } catch (err) {
      why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file is gone' : String(err)
    }
    if (why === null) return
    const err = new StoreLostError(
      `store ${path} was deleted or replaced while the aggregator runs (${why}): nothing written now would survive a restart, so updates are refused; restore the file (or remount its volume) and restart the aggregator`,
    )
    if (!lostLogged) logError('store_lost', err, { store: path })
    lostLogged = true
    throw err
  }
}
