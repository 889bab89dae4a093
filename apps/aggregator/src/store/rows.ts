// Rows come back from SQLite as `unknown`: a store written by another program, or edited by hand, must fail
// loudly here rather than as a wrong model later. These guards read one column each.

/** A row or column that does not have the shape this schema version writes. */
export class StoreCorruptError extends Error {
  override name = 'StoreCorruptError'
}

type Row = Record<string, unknown>

/** Checks that `input` is a row object. */
export function asRow(input: unknown, what: string): Row {
  if (typeof input !== 'object' || input === null)
    throw new StoreCorruptError(`${what}: expected a row, got ${String(input)}`)
  return input as Row
}

/** A column holding an integer. */
export function int(row: Row, key: string, what: string): number {
  const value = row[key]
  if (typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value)
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new StoreCorruptError(`${what}.${key}: expected an integer, got ${String(value)}`)
  return value
}

/** A column holding a finite number. */
export function real(row: Row, key: string, what: string): number {
  const value = row[key]
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new StoreCorruptError(`${what}.${key}: expected a finite number, got ${String(value)}`)
  return value
}

/** A column holding text. */
export function text(row: Row, key: string, what: string): string {
  const value = row[key]
  if (typeof value !== 'string')
    throw new StoreCorruptError(`${what}.${key}: expected text, got ${typeof value}`)
  return value
}

/** A column holding a blob. */
export function blob(row: Row, key: string, what: string): Uint8Array {
  const value = row[key]
  if (!(value instanceof Uint8Array))
    throw new StoreCorruptError(`${what}.${key}: expected a blob, got ${typeof value}`)
  return value
}

/** A column holding a flag: 0 or 1 on SQLite, a BOOLEAN on PostgreSQL. */
export function flag(row: Row, key: string, what: string): boolean {
  const value = row[key]
  if (typeof value === 'boolean') return value
  if (value === 0 || value === 1 || value === 0n || value === 1n) return value === 1 || value === 1n
  throw new StoreCorruptError(`${what}.${key}: expected a flag, got ${String(value)}`)
}

/** A nullable column: `null` or what `read` accepts. */
export function nullable<T>(
  row: Row,
  key: string,
  what: string,
  read: (row: Row, key: string, what: string) => T,
): T | null {
  return row[key] === null ? null : read(row, key, what)
}

/**
 * A float32 tensor stored as a little-endian blob, copied so it is aligned and owned.
 * @example const bias = floatsFromBlob(blob(row, 'item_bias', 'model'), numItems, 'model.item_bias')
 */
export function floatsFromBlob(bytes: Uint8Array, length: number, what: string): Float32Array {
  if (bytes.byteLength !== length * 4)
    throw new StoreCorruptError(
      `${what}: expected ${length} floats (${length * 4} bytes), got ${bytes.byteLength} bytes`,
    )
  const out = new Float32Array(length)
  new Uint8Array(out.buffer).set(bytes)
  return out
}

/** The bytes of a float32 tensor, for a BLOB column (no copy). */
export const floatsToBlob = (values: Float32Array): Buffer =>
  Buffer.from(values.buffer, values.byteOffset, values.byteLength)
