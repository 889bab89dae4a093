/** The statement shapes the PostgreSQL groups repeat: one row or none, whether a row exists, an insert, an update. */
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

/**
 * Sets the columns of `set` in the rows matching every column of `where` (a null there matches NULL);
 * returns how many rows changed. Names come from the calling group's code, never from input.
 * @example const closed = await updateRows(query, 'rounds', { closed_at: at }, { round: 3, closed_at: null })
 */
export async function updateRows(
  query: Query,
  table: string,
  set: Record<string, unknown>,
  where: Record<string, unknown>,
): Promise<number> {
  const values: unknown[] = []
  const param = (value: unknown): string => {
    values.push(value)
    return `$${values.length}`
  }
  const assignments = Object.entries(set).map(([column, value]) => `${column} = ${param(value)}`)
  const conditions = Object.entries(where).map(([column, value]) =>
    value === null ? `${column} IS NULL` : `${column} = ${param(value)}`,
  )
  const { rowCount } = await query(
    `UPDATE ${table} SET ${assignments.join(', ')} WHERE ${conditions.join(' AND ')}`,
    values,
  )
  return rowCount
}
