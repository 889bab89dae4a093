// Turns a loaded data set into what the simulation trains and evaluates on: model rows, per-shopper
// training events and held-out items.
import { createRng, type RowEvent } from '@fedrec/core/client'
import type { LoadedDataset } from './datasets/index.ts'
import { SimulationError } from './errors.ts'

/** One shopper after the leave-one-out split. */
export interface SplitUser {
  id: string
  /** Every event on the shopper's training items, in time order. */
  train: RowEvent[]
  /** Distinct training rows. */
  trainRows: Set<number>
  /** Held-out rows; undefined for a shopper with fewer than 3 distinct items (trains, is not evaluated). */
  validation: number | undefined
  test: number | undefined
  /**
   * What the device knew just before the shopper first touched the test item (the validation item
   * included) and the validation item, in time order: the sequence model's state at evaluation time
   * (SASRec's protocol, DESIGN.md). Empty for a shopper who is not evaluated.
   */
  testContext: RowEvent[]
  validationContext: RowEvent[]
  /** Rows the shopper never touched, ranked against the held-out item (fixed for the whole run). */
  negatives: Int32Array
}

export interface SplitDataset {
  /** Row i of the model is `itemIds[i]`. */
  itemIds: string[]
  users: SplitUser[]
  /**
   * Per row, how many shoppers touched it in training in the most recent fifth of the training events (by
   * time): the "recent popularity" baseline, a bestseller list of the last days.
   */
  recentCounts: Float64Array
  /** Indices into `users` of the shoppers that have a test item. */
  evalUsers: number[]
  counts: { interactions: number; users: number; items: number; evalUsers: number; trainEvents: number }
}

export interface SplitOptions {
  /** Negatives sampled per evaluated shopper (99 in NCF's protocol). */
  negatives: number
  seed: number
}

/**
 * Leave-one-out by time: each shopper's events are ordered by timestamp (ties keep file order); the items,
 * in the order the shopper first touched them, give the test item (the last) and the validation item (the
 * one before); every event on those two is removed from training. Counting each item once matters for
 * repeat purchases (Online Retail): a re-bought item is not "new" and would otherwise be both trained and
 * tested. Shoppers with fewer than three distinct items keep everything for training and are not evaluated.
 * @example const split = leaveOneOut(loadDataset('movielens', path), { negatives: 99, seed: 1 })
 */
export function leaveOneOut(data: LoadedDataset, options: SplitOptions): SplitDataset {
  const itemIds = [...new Set(data.interactions.map((e) => e.item))].sort(compareIds)
  const rowOf = new Map(itemIds.map((id, row) => [id, row]))
  const byUser = new Map<
    string,
    { row: number; type: RowEvent['type']; timestamp: number; order: number }[]
  >()
  data.interactions.forEach((e, order) => {
    const list = byUser.get(e.user) ?? []
    if (list.length === 0) byUser.set(e.user, list)
    list.push({ row: rowOf.get(e.item)!, type: e.type, timestamp: e.timestamp, order })
  })
  const rng = createRng(options.seed ^ 0x5eed5)
  const users: SplitUser[] = []
  const evalUsers: number[] = []
  let trainEvents = 0
  const trainTimes: { user: number; row: number; timestamp: number }[] = []
  for (const id of [...byUser.keys()].sort(compareIds)) {
    const events = byUser.get(id)!.sort((a, b) => a.timestamp - b.timestamp || a.order - b.order)
    const firstSeen: number[] = []
    const touched = new Set<number>()
    for (const e of events) {
      if (!touched.has(e.row)) firstSeen.push(e.row)
      touched.add(e.row)
    }
    const held = firstSeen.length >= 3
    const test = held ? firstSeen[firstSeen.length - 1] : undefined
    const validation = held ? firstSeen[firstSeen.length - 2] : undefined
    const kept = events.filter((e) => e.row !== test && e.row !== validation)
    for (const e of kept) trainTimes.push({ user: users.length, row: e.row, timestamp: e.timestamp })
    const train = kept.map(({ type, row }) => ({ type, row }))
    const before = (row: number | undefined) => {
      if (row === undefined) return []
      const first = events.findIndex((e) => e.row === row)
      return events.slice(0, first).map(({ type, row: r }) => ({ type, row: r }))
    }
    trainEvents += train.length
    const negatives = held
      ? sampleNegatives(itemIds.length, touched, options.negatives, rng)
      : new Int32Array(0)
    if (held) evalUsers.push(users.length)
    users.push({
      id,
      train,
      trainRows: new Set(train.map((e) => e.row)),
      validation,
      test,
      testContext: before(test),
      validationContext: before(validation),
      negatives,
    })
  }
  if (evalUsers.length === 0) {
    throw new SimulationError(
      'no_users',
      `${data.path}: no shopper has the 3 distinct items leave-one-out needs`,
    )
  }
  return {
    itemIds,
    users,
    recentCounts: recentCounts(trainTimes, itemIds.length),
    evalUsers,
    counts: {
      interactions: data.interactions.length,
      users: users.length,
      items: itemIds.length,
      evalUsers: evalUsers.length,
      trainEvents,
    },
  }
}

/** Shoppers per row among the training events at or after the 80th percentile of their times. */
function recentCounts(
  events: { user: number; row: number; timestamp: number }[],
  numItems: number,
): Float64Array {
  const counts = new Float64Array(numItems)
  if (events.length === 0) return counts
  const times = events.map((e) => e.timestamp).sort((a, b) => a - b)
  const cutoff = times[Math.floor(0.8 * (times.length - 1))]!
  const seen = new Set<string>()
  for (const e of events) {
    const key = `${e.user}:${e.row}`
    if (e.timestamp < cutoff || seen.has(key)) continue
    seen.add(key)
    counts[e.row]! += 1
  }
  return counts
}

/** Numeric ids sort as numbers (MovieLens 2 before 10), the rest as strings. */
function compareIds(a: string, b: string): number {
  const na = Number(a)
  const nb = Number(b)
  if (a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb))
    return na - nb || (a < b ? -1 : a > b ? 1 : 0)
  return a < b ? -1 : a > b ? 1 : 0
}

function sampleNegatives(
  numItems: number,
  touched: ReadonlySet<number>,
  want: number,
  rng: ReturnType<typeof createRng>,
): Int32Array {
  const available = numItems - touched.size
  const m = Math.min(want, available)
  const picked = new Set<number>()
  if (available <= 2 * m) {
    const pool: number[] = []
    for (let r = 0; r < numItems; r++) if (!touched.has(r)) pool.push(r)
    for (let j = 0; j < m; j++) {
      const k = j + rng.int(pool.length - j)
      ;[pool[j], pool[k]] = [pool[k]!, pool[j]!]
      picked.add(pool[j]!)
    }
  } else {
    while (picked.size < m) {
      const r = rng.int(numItems)
      if (!touched.has(r)) picked.add(r)
    }
  }
  return Int32Array.from(picked)
}
