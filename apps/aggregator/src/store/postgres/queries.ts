/** The statement shapes the PostgreSQL groups repeat: one row or none, whether a row exists, one insert. */
import type { PgContext } from './context.ts'

type Query = PgContext['query']

/**
 * The first row of a query read by `read`, or undefined when there is none.
 * @example const update = await first(query, `SELECT * FROM updates WHERE idempotency_key = $1`, [key], toUpdate)
 */
export async function first<T>(
  query: Query,
  text: string,
  values: unknown[],
  read: (row: unknown) => T,
): Promise<T | undefined> {
  const { rows } = await query(text, values)
  return rows.length === 0 ? undefined : read(rows[0])
}

/**
 * Whether a query finds any row.
 * @example await exists(query, `SELECT 1 FROM updates WHERE round = $1 AND client_hash = $2`, [round, hash])
 */
export async function exists(query: Query, text: string, values: unknown[]): Promise<boolean> {
  return (await query(text, values)).rows.length > 0
}

/**
 * Inserts one row given as column → value. Table and column names come from the calling group's code,
 * never from input; the values are parameters.
 * @example await insertRow(query, 'secagg_members', { cohort: 1, id: 0, client_hash: hash })
 */
export async function insertRow(query: Query, table: string, row: Record<string, unknown>): Promise<void> {
  const columns = Object.keys(row)
  const placeholders = columns.map((_, i) => `$${i + 1}`)
  await query(
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${placeholders.join(', ')})`,
    Object.values(row),
  )
}
