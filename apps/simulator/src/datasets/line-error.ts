// Helpers the data-set loaders share so a bad line is reported the same way in every format.
import { DatasetError } from '../errors.ts'

/** The one way every loader reports a bad line: file, 1-based line number, what was wrong, the text. */
export function malformed(path: string, line: number, what: string, text?: string): DatasetError {
  const shown =
    text === undefined ? '' : `: ${JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text)}`
  return new DatasetError('malformed_line', `${path}:${line}: ${what}${shown}`)
}

/** Parses a whole decimal integer (optionally signed), or returns undefined. */
export function parseInteger(text: string): number | undefined {
  const t = text.trim()
  if (!/^[-+]?\d+$/.test(t)) return undefined
  const n = Number(t)
  return Number.isSafeInteger(n) ? n : undefined
}
