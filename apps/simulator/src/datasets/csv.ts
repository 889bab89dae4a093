// The CSV reader under the simulator's CSV loaders: records with the line they started on, so a loader's
// error can name the line.
import { parse } from 'csv-parse/sync'
import { DatasetError } from '../errors.ts'
import { malformed } from './line-error.ts'

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

/**
 * A CSV whose first line names its columns: its data records, each checked to have as many fields as the
 * header as it is read, and a reader of a required column by name.
 * @throws DatasetError for an empty file, a header without a required column, or a line of another width
 * @example const { rows, field } = parseCsvTable(text, 'retail.csv', ['StockCode']); for (const r of rows) field(r, 'StockCode')
 */
export function parseCsvTable<Name extends string>(
  text: string,
  path: string,
  required: readonly Name[],
): { rows: Iterable<CsvRecord>; field: (record: CsvRecord, name: Name) => string } {
  const records = parseCsv(text, path)
  const header = records[0]
  if (!header) throw new DatasetError('empty', `${path}: the file is empty`)
  const column = new Map(header.fields.map((name, i) => [name.trim(), i]))
  const missing = required.filter((name) => !column.has(name))
  if (missing.length > 0)
    throw malformed(
      path,
      header.line,
      `header lacks column(s) ${missing.join(', ')}`,
      header.fields.join(','),
    )
  const width = header.fields.length
  // Checked as they are read, so the error names the first bad line whatever is wrong with it.
  function* rows(): Generator<CsvRecord> {
    for (const record of records.slice(1)) {
      const { line, fields } = record
      if (fields.length !== width)
        throw malformed(path, line, `expected ${width} fields, got ${fields.length}`, fields.join(','))
      yield record
    }
  }
  return { rows: rows(), field: (record, name) => record.fields[column.get(name)!]! }
}
