// Building blocks of a shopper's training examples: events as model rows, and the negatives drawn from the
// rows it never touched.
import type { EventType } from './events.ts'
import type { Rng } from './rng.ts'

/** One event of a shopper's history with its item already mapped to a model row. */
export interface RowEvent {
  type: EventType
  row: number
}

/** Returns a function drawing `m` distinct untouched rows; `m` never exceeds the untouched count. */
export function negativeSampler(
  numItems: number,
  touched: ReadonlyMap<number, unknown>,
  rng: Rng,
): (m: number) => number[] {
  // With most of the catalogue untouched (the usual case), rejection sampling needs no O(numItems) list.
  if (touched.size * 2 <= numItems) {
    return (m) => {
      const picked = new Set<number>()
      while (picked.size < m) {
        const row = rng.int(numItems)
        if (!touched.has(row)) picked.add(row)
      }
      return [...picked]
    }
  }
  // A tiny catalogue or a very busy shopper: list the untouched rows and take a partial Fisher–Yates.
  const pool: number[] = []
  for (let row = 0; row < numItems; row++) if (!touched.has(row)) pool.push(row)
  return (m) => {
    for (let j = 0; j < m; j++) {
      const k = j + rng.int(pool.length - j)
      const tmp = pool[j]!
      pool[j] = pool[k]!
      pool[k] = tmp
    }
    return pool.slice(0, m)
  }
}
