import { ModelError } from './errors.ts'
import { DEFAULT_EVENT_WEIGHTS, EVENT_TYPES, type EventType, type EventWeights } from './events.ts'
import { pickPseudoItems } from './pseudo-items.ts'
import type { Rng } from './rng.ts'

/** One event of a shopper's history with its item already mapped to a model row. */
export interface RowEvent {
  type: EventType
  row: number
}

/**
 * Training pairs: pair i says the shopper prefers row `positives[i]` over row `negatives[i]`, with
 * confidence `weights[i]`. Only the first `count` entries are meaningful.
 */
export interface TrainingSamples {
  positives: Int32Array
  negatives: Int32Array
  weights: Float32Array
  /**
   * n_k, the number of (positive, negative) pairs, pseudo pairs included (row padding); the aggregator
   * weights this client's delta by it.
   */
  count: number
  /**
   * Pairs from the shopper's own history: the first `realCount`; the rest are pseudo pairs (row padding).
   * Undefined: every pair is real.
   */
  realCount?: number
  /** The pseudo-items (row padding), to keep for the next round; undefined without padding. */
  pseudoItems?: number[]
}

export interface SampleOptions {
  /** Rows in the model; every event row must be below it. */
  numItems: number
  /** Negatives drawn for each positive (fewer when the shopper has touched almost the whole catalogue). */
  negativesPerPositive: number
  eventWeights?: EventWeights
  rng: Rng
  /**
   * Row padding: pseudo-items per real item (0, the default: none). See `pickPseudoItems`: untouched rows
   * trained exactly like real positives, each with its own sampled negatives, after the real pairs.
   */
  padRatio?: number
  /** Draws the pseudo-items; a stream that is the same every round keeps them the same. Default `rng`. */
  padRng?: Rng
  /** The model's score of every row for this shopper: pseudo-items are drawn from its softmax. Absent: uniform. */
  padScores?: ArrayLike<number>
  /** The previous round's pseudo-items, kept first (see `pickPseudoItems`). */
  padPrevious?: readonly number[]
}

/**
 * Turns one shopper's history into BPR pairs.
 *
 * Each distinct row becomes one positive whose weight is that of the *strongest* event seen for it, not
 * a sum: a purchase is usually preceded by clicks and carts, and ten clicks on an item the shopper keeps
 * hesitating over are not ten purchases. The maximum is bounded, does not depend on how chatty the page
 * is, and does not depend on event order.
 *
 * Negatives are drawn uniformly (distinct within one positive) from rows the shopper never touched in
 * any way: an item they clicked is not evidence of dislike.
 * @example
 * const samples = buildSamples([{ type: 'purchase', row: 3 }, { type: 'click', row: 8 }], {
 *   numItems: 1000, negativesPerPositive: 4, rng: createRng(1),
 * })
 * samples.count // 8: two positives, four negatives each
 */
export function buildSamples(events: readonly RowEvent[], options: SampleOptions): TrainingSamples {
  const { numItems, negativesPerPositive, eventWeights = DEFAULT_EVENT_WEIGHTS, rng } = options
  const { padRatio = 0, padRng = rng, padScores, padPrevious } = options
  if (!Number.isInteger(numItems) || numItems <= 0) {
    throw new ModelError('bad_option', `numItems must be a positive integer, got ${numItems}`)
  }
  if (!Number.isInteger(negativesPerPositive) || negativesPerPositive < 1) {
    throw new ModelError(
      'bad_option',
      `negativesPerPositive must be an integer >= 1, got ${negativesPerPositive}`,
    )
  }
  for (const type of EVENT_TYPES) {
    const w = eventWeights[type]
    if (!(Number.isFinite(w) && w > 0)) {
      throw new ModelError('bad_option', `event weight for ${type} must be finite and > 0, got ${w}`)
    }
  }

  const strongest = new Map<number, number>()
  for (const { type, row } of events) {
    if (!Number.isInteger(row) || row < 0 || row >= numItems) {
      throw new ModelError('row_out_of_range', `event row ${row} is outside 0..${numItems - 1}`)
    }
    const w = eventWeights[type]
    strongest.set(row, Math.max(strongest.get(row) ?? 0, w))
  }

  // Ascending rows make the output independent of event order; training shuffles anyway.
  const rows = [...strongest.keys()].sort((a, b) => a - b)
  const reserve = Math.min(negativesPerPositive, numItems - rows.length)
  const pseudo = pickPseudoItems({
    touched: strongest,
    numItems,
    ratio: padRatio,
    reserve,
    rng: padRng,
    ...(padScores ? { scores: padScores } : {}),
    ...(padPrevious ? { previous: padPrevious } : {}),
  })
  // A pseudo-item is never anyone's negative, like a real positive: its row must move only one way.
  const excluded = new Map(strongest)
  for (const row of pseudo.rows) excluded.set(row, 0)
  const perPositive = Math.min(negativesPerPositive, numItems - excluded.size)
  const realCount = rows.length * perPositive
  const count = realCount + pseudo.rows.length * perPositive
  const positives = new Int32Array(count)
  const negatives = new Int32Array(count)
  const weights = new Float32Array(count)
  const draw = negativeSampler(numItems, excluded, rng)

  let i = 0
  const add = (row: number, w: number) => {
    for (const negative of draw(perPositive)) {
      positives[i] = row
      negatives[i] = negative
      weights[i] = w
      i++
    }
  }
  for (const row of rows) add(row, strongest.get(row) ?? 0)
  pseudo.rows.forEach((row, j) => {
    add(row, pseudo.weights[j]!)
  })
  const padded = pseudo.rows.length > 0 ? { realCount, pseudoItems: pseudo.rows } : {}
  return { positives, negatives, weights, count, ...padded }
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
