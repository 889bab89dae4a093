// The CSV reader under the simulator's CSV loaders: records with the line they started on, so a loader's
// error can name the line.
import { parse } from 'csv-parse/sync'
import { DatasetError } from '../errors.ts'

/** One CSV record with the line it started on. */
export interface CsvRecord {
  line: number
  fields: string[]
}

/**
 * RFC-4180 CSV (quoted fields may hold commas, quotes and newlines) into records with line numbers.
 * @throws DatasetError naming the file and line when the CSV itself is broken (e.g. an unclosed quote)
 */
export function parseCsv(text: string, path: string): CsvRecord[] {
  let parsed: unknown
  try {
    parsed = parse(text, { info: true, skip_empty_lines: true, relax_column_count: true, bom: true })
  } catch (err) {
    const line = typeof err === 'object' && err !== null && 'lines' in err ? Number(err.lines) : undefined
    const why = err instanceof Error ? err.message : String(err)
    throw new DatasetError('malformed_line', `${path}:${line ?? '?'}: not valid CSV (${why})`, { cause: err })
  }
  if (!Array.isArray(parsed))
    throw new DatasetError('unreadable', `${path}: the CSV parser returned no records`)
  return parsed.map((entry: unknown) => {
    const record = typeof entry === 'object' && entry !== null && 'record' in entry ? entry.record : undefined
    const info = typeof entry === 'object' && entry !== null && 'info' in entry ? entry.info : undefined
    const line =
      typeof info === 'object' && info !== null && 'lines' in info && typeof info.lines === 'number'
        ? info.lines
        : 0
    if (!Array.isArray(record) || !record.every((f) => typeof f === 'string')) {
      throw new DatasetError(
        'unreadable',
        `${path}:${line}: the CSV parser returned a record that is not text`,
      )
    }
    return { line, fields: record }
  })
}
