// The OTTO sessions loader: a real shop's clicks, carts and orders, the three event types fedrec tracks.
import type { EventType } from '@fedrec/core/client'
import type { LoadedDataset } from './interaction.ts'
import { malformed } from './line-error.ts'

const TYPES: Record<string, EventType> = { clicks: 'click', carts: 'add_to_cart', orders: 'purchase' }

/**
 * OTTO JSON lines: `{"session": 1, "events": [{"aid": 5, "ts": 1659304800025, "type": "clicks"}, …]}`; a
 * session is a shopper; clicks / carts / orders become click / add_to_cart / purchase.
 * @throws DatasetError naming `path` and the line of the first malformed line
 * @example parseOtto('{"session":0,"events":[{"aid":7,"ts":1,"type":"carts"}]}', 'train.jsonl')
 */
export function parseOtto(text: string, path: string): LoadedDataset {
  const interactions: LoadedDataset['interactions'] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '') continue
    let json: unknown
    try {
      json = JSON.parse(line)
    } catch (err) {
      throw malformed(path, i + 1, `not JSON (${err instanceof Error ? err.message : String(err)})`, line)
    }
    if (typeof json !== 'object' || json === null || !('session' in json) || !('events' in json)) {
      throw malformed(path, i + 1, 'expected an object with "session" and "events"', line)
    }
    const { session, events } = json
    if (!Number.isSafeInteger(session) || !Array.isArray(events)) {
      throw malformed(path, i + 1, '"session" must be an integer and "events" an array', line)
    }
    for (const [j, event] of events.entries()) {
      const ok =
        typeof event === 'object' &&
        event !== null &&
        'aid' in event &&
        'ts' in event &&
        'type' in event &&
        Number.isSafeInteger(event.aid) &&
        typeof event.ts === 'number' &&
        Number.isFinite(event.ts) &&
        typeof event.type === 'string' &&
        // Own keys only: `in` would also accept "toString" and the other Object.prototype names.
        Object.hasOwn(TYPES, event.type)
      if (!ok) {
        throw malformed(
          path,
          i + 1,
          `events[${j}] must be {aid: integer, ts: number, type: clicks|carts|orders}`,
          JSON.stringify(event),
        )
      }
      interactions.push({
        user: String(session),
        item: String(event.aid),
        type: TYPES[event.type as string]!,
        timestamp: event.ts,
      })
    }
  }
  return { format: 'otto', path, interactions, skipped: {} }
}
