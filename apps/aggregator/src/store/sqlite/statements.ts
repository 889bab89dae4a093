/** The shared prepared-statement cache every SQLite table group runs its SQL through. */
import type Database from 'better-sqlite3'

/** What a SQLite table group is built on: the open database and its statement cache. */
export interface SqliteContext {
  /** For a group's own transactions (nested in the caller's, they become savepoints). */
  readonly db: Database.Database
  /** The prepared statement for `source`, prepared once and reused. */
  readonly sql: (source: string) => Database.Statement
}

/**
 * Prepares statements lazily (on a fresh file the tables do not exist until `initialise()`), once each.
 * @example const { sql } = createSqliteContext(db); sql(`SELECT value FROM meta WHERE key = ?`).pluck().get('salt')
 */
export function createSqliteContext(db: Database.Database): SqliteContext {
  const cache = new Map<string, Database.Statement>()
  const sql = (source: string): Database.Statement => {
    let stmt = cache.get(source)
    if (!stmt) {
      stmt = db.prepare(source)
      cache.set(source, stmt)
    }
    return stmt
  }
  return { db, sql }
}
