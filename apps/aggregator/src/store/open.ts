/**
 * Which store a `--store` names: a `postgres://` or `postgresql://` URL is the PostgreSQL store (replicas may
 * share it), anything else a SQLite file (one process).
 */
import { openStore } from './index.ts'
import { openPostgresStore } from './postgres/index.ts'
import type { Store } from './store.ts'

/**
 * True when `location` is a PostgreSQL URL rather than a SQLite path.
 * @example isPostgresLocation('postgres://fedrec@db/fedrec') // true
 */
export const isPostgresLocation = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location)

/**
 * `location` as it may be printed or logged: a URL without its password, a path as it is.
 * @example shownLocation('postgres://fedrec:secret@db/fedrec') // 'postgres://fedrec@db/fedrec'
 */
export function shownLocation(location: string): string {
  if (!isPostgresLocation(location)) return location
  try {
    const url = new URL(location)
    url.password = ''
    return url.toString()
  } catch {
    // Not parseable: nothing of it is shown, since a password could be anywhere in it.
    return 'postgres://(an unparseable URL)'
  }
}

/**
 * Opens the store `location` names: PostgreSQL for a URL, SQLite for a path (`':memory:'` for tests).
 * @throws StartupError when it is missing (without `create`), unreachable, or not a fedrec store
 * @example const store = await openStoreAt('postgres://fedrec@db/fedrec', { create: false })
 */
export async function openStoreAt(
  location: string,
  { create = true }: { create?: boolean } = {},
): Promise<Store> {
  return isPostgresLocation(location)
    ? openPostgresStore(location, { create })
    : openStore(location, { create })
}
