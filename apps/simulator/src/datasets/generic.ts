// The loader for a shop's own event log, for data sets the simulator has no dedicated loader for.
import { isEventType } from '@fedrec/core/client'
import { parseCsv } from './csv.ts'
import type { LoadedDataset } from './interaction.ts'
import { malformed } from './line-error.ts'

/**
 * A generic CSV `user,item,type,timestamp` (an optional header line with exactly those names), `type` one of
 * click / add_to_cart / purchase, `timestamp` a number (any unit) or an ISO 8601 date-time.
 * @throws DatasetError naming `path` and the line of the first malformed line
 * @example parseGenericCsv('user,item,type,timestamp\nu1,sku-1,purchase,1700000000\n', 'events.csv')
 */
export function parseGenericCsv(text: string, path: string): LoadedDataset {
  const records = parseCsv(text, path)
  const interactions: LoadedDataset['interactions'] = []
  for (const [index, { line, fields }] of records.entries()) {
    if (index === 0 && fields.map((f) => f.trim()).join(',') === 'user,item,type,timestamp') continue
    if (fields.length !== 4)
      throw malformed(path, line, `expected 4 fields, got ${fields.length}`, fields.join(','))
    const [user, item, type, time] = fields.map((f) => f.trim()) as [string, string, string, string]
    if (user === '' || item === '')
      throw malformed(path, line, 'user and item must not be empty', fields.join(','))
    if (!isEventType(type)) throw malformed(path, line, 'type must be click, add_to_cart or purchase', type)
    const timestamp = /^[-+]?\d+(\.\d+)?$/.test(time) ? Number(time) : Date.parse(time)
    if (!Number.isFinite(timestamp))
      throw malformed(path, line, 'timestamp must be a number or an ISO 8601 date', time)
    interactions.push({ user, item, type, timestamp })
  }
  return { format: 'generic', path, interactions, skipped: {} }
}
