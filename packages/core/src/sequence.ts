// The next-item model's view of a shopper: the recent items that stand for their state, in training and
// when recommending.
import { ModelError } from './errors.ts'
import { DEFAULT_EVENT_WEIGHTS, EVENT_TYPES, type EventWeights } from './events.ts'
import { addItemVector, checkItemFeatures, type ItemFeatures, itemCount } from './item-features.ts'
import { pickPseudoItems } from './pseudo-items.ts'
import type { Rng } from './rng.ts'
import { negativeSampler, type RowEvent } from './samples.ts'
import type { SharedWeights } from './weights.ts'

/**
 * How a shopper's state is read from their recent events: the `contextLength` most recently touched
 * distinct items, the newest weighing 1, the one before `recency`, then `recency²`, …, each times the
 * weight of the strongest event the shopper had with it; the weights are then normalised to sum 1.
 */
export interface SequenceSettings {
  contextLength: number
  recency: number
}

/**
 * Measured on MovieLens-100K, Online Retail and the REES46 clickstream (docs/simulator.md): the last 20
 * items, each step back in time worth 0.7 of the next. A shorter memory (0.5) wins on the shop sessions by a
 * hair and loses on MovieLens; 0.9 and beyond dilutes the last item, which carries most of the signal.
 * @example const query = sequenceQuery(weights, history, DEFAULT_SEQUENCE)
 */
export const DEFAULT_SEQUENCE: SequenceSettings = Object.freeze({ contextLength: 20, recency: 0.7 })

/**
 * A shopper's training examples for the next-item model: target t is the t-th distinct item the shopper
 * touched (in time order, the first excepted: it has nothing before it); its context is what the device knew
 * just before (see {@link SequenceSettings}); each target has `negativesPerTarget` sampled negatives.
 * Contexts are stored compressed (CSR): target t's context is `contextRows[contextStart[t]..contextStart[t+1]]`.
 */
export interface SequenceSamples {
  /** Target rows, one per example. */
  targets: Int32Array
  /** Strongest-event weight of each target (1 / 2 / 4 by default): a purchased next item counts more. */
  weights: Float32Array
  /** Target-major: target t's negatives are `negatives[t·K .. t·K + K]`. */
  negatives: Int32Array
  negativesPerTarget: number
  contextStart: Int32Array
  contextRows: Int32Array
  /** Normalised recency × event weights of the context rows; each context sums to 1. */
  contextWeights: Float32Array
  /** n_k: (target, negative) pairs, pseudo pairs included; the aggregator weighs the delta by it. */
  count: number
  /** Targets from the shopper's own history: the first `realTargets`; the rest are row padding's. */
  realTargets: number
  /** Row padding's pseudo-items (kept by the device for the next round); empty without padding. */
  pseudoItems: number[]
}

export interface SequenceSampleOptions {
  numItems: number
  negativesPerTarget: number
  rng: Rng
  settings?: SequenceSettings
  eventWeights?: EventWeights
  /**
   * At most this many of the shopper's own examples per round, drawn at random (all of them when there are
   * fewer): a long history costs a bounded round, and over rounds every transition still gets its turn.
   * Default: no limit.
   */
  maxTargets?: number
  /** Row padding (`pickPseudoItems`): pseudo-items per real item; each is one more target. */
  padRatio?: number
  padRng?: Rng
  padScores?: ArrayLike<number>
  padPrevious?: readonly number[]
}

/** The recent-item window as the device sees it after some events: newest last, with event weights. */
interface Window {
  rows: number[]
  weights: number[]
}

/**
 * Builds the next-item training examples of one shopper. Negatives come from the rows the shopper never
 * touched (a held-out item of an evaluation is such a row, as it would be on a real device: the device does
 * not know its future). Pseudo-items (row padding) are extra targets whose context is the whole recent window.
 * @example
 * const s = buildSequenceSamples(history, { numItems: 1000, negativesPerTarget: 4, rng: createRng(1) })
 * s.targets.length // distinct items − 1
 */
export function buildSequenceSamples(
  events: readonly RowEvent[],
  options: SequenceSampleOptions,
): SequenceSamples {
  const { numItems, negativesPerTarget: k, rng } = options
  const { settings = DEFAULT_SEQUENCE, eventWeights = DEFAULT_EVENT_WEIGHTS } = options
  const { padRatio = 0, padRng = rng, padScores, padPrevious } = options
  if (!Number.isInteger(numItems) || numItems <= 0) {
    throw new ModelError('bad_option', `numItems must be a positive integer, got ${numItems}`)
  }
  if (!Number.isInteger(k) || k < 1) {
    throw new ModelError('bad_option', `negativesPerTarget must be an integer >= 1, got ${k}`)
  }
  checkSettings(settings)
  checkEventWeights(eventWeights)

  const strongest = new Map<number, number>()
  const window: Window = { rows: [], weights: [] }
  const targets: number[] = []
  const contexts: { rows: number[]; weights: number[] }[] = []
  for (const { type, row } of events) {
    if (!Number.isInteger(row) || row < 0 || row >= numItems) {
      throw new ModelError('row_out_of_range', `event row ${row} is outside 0..${numItems - 1}`)
    }
    const w = eventWeights[type]
    if (!strongest.has(row) && window.rows.length > 0) {
      targets.push(row)
      contexts.push(contextOf(window, settings))
    }
    strongest.set(row, Math.max(strongest.get(row) ?? 0, w))
    touch(window, row, strongest.get(row)!, settings.contextLength)
  }
  const limit = options.maxTargets ?? Number.POSITIVE_INFINITY
  if (!(limit >= 1)) throw new ModelError('bad_option', `maxTargets must be >= 1, got ${options.maxTargets}`)
  if (targets.length > limit) keepRandom(targets, contexts, Math.floor(limit), rng)
  const realTargets = targets.length
  const reserve = Math.min(k, numItems - strongest.size)
  const pseudo = pickPseudoItems({
    touched: strongest,
    numItems,
    ratio: padRatio,
    reserve,
    rng: padRng,
    ...(padScores ? { scores: padScores } : {}),
    ...(padPrevious ? { previous: padPrevious } : {}),
  })
  const excluded = new Map(strongest)
  for (const row of pseudo.rows) excluded.set(row, 0)
  const perTarget = Math.min(k, numItems - excluded.size)
  if (pseudo.rows.length > 0) {
    const whole = contextOf(window, settings)
    pseudo.rows.forEach((row) => {
      targets.push(row)
      contexts.push(whole)
    })
  }
  const weightsOut = new Float32Array(targets.length)
  for (let t = 0; t < realTargets; t++) weightsOut[t] = strongest.get(targets[t]!)!
  pseudo.weights.forEach((w, j) => {
    weightsOut[realTargets + j] = w
  })
  if (perTarget < 1) {
    // The shopper touched the whole catalogue: nothing is left to be a negative, so there is nothing to learn.
    return emptySamples(k, pseudo.rows)
  }
  const negatives = new Int32Array(targets.length * perTarget)
  const draw = negativeSampler(numItems, excluded, rng)
  for (let t = 0; t < targets.length; t++) negatives.set(draw(perTarget), t * perTarget)
  const contextStart = new Int32Array(targets.length + 1)
  for (let t = 0; t < contexts.length; t++) contextStart[t + 1] = contextStart[t]! + contexts[t]!.rows.length
  const contextRows = new Int32Array(contextStart[targets.length]!)
  const contextWeights = new Float32Array(contextRows.length)
  contexts.forEach((c, t) => {
    contextRows.set(c.rows, contextStart[t]!)
    contextWeights.set(c.weights, contextStart[t]!)
  })
  return {
    targets: Int32Array.from(targets),
    weights: weightsOut,
    negatives,
    negativesPerTarget: perTarget,
    contextStart,
    contextRows,
    contextWeights,
    count: targets.length * perTarget,
    realTargets,
    pseudoItems: pseudo.rows,
  }
}

/**
 * The shopper's state for scoring: the recency-weighted mean of the embeddings of their recent items (see
 * {@link SequenceSettings}), plus their private vector where one is kept. Score of item i: query·e_i + b_i.
 * With `itemFeatures` an item's embedding is its id row plus its pooled features (item-features.ts), and an
 * item newer than the model counts by its features alone. A shopper with no usable event gets the private
 * vector alone (zero: items rank by their bias, i.e. by learned popularity). Computed on the device: nothing
 * of it leaves.
 * @example const top = await scorer.topK(sequenceQuery(weights, history, { itemFeatures }), 10, exclude)
 */
export function sequenceQuery(
  weights: SharedWeights,
  events: readonly RowEvent[],
  options: {
    settings?: SequenceSettings
    eventWeights?: EventWeights
    privateVector?: Float32Array
    itemFeatures?: ItemFeatures
  } = {},
): Float32Array {
  const { settings = DEFAULT_SEQUENCE, eventWeights = DEFAULT_EVENT_WEIGHTS, privateVector } = options
  const { itemFeatures } = options
  checkItemFeatures(weights, itemFeatures)
  const numItems = itemCount(weights, itemFeatures)
  const query = new Float32Array(weights.dim)
  if (privateVector) query.set(privateVector.subarray(0, weights.dim))
  const strongest = new Map<number, number>()
  const window: Window = { rows: [], weights: [] }
  for (const { type, row } of events) {
    // Events for rows the model does not have (yet) carry no embedding: they are skipped, not an error.
    if (!Number.isInteger(row) || row < 0 || row >= numItems) continue
    strongest.set(row, Math.max(strongest.get(row) ?? 0, eventWeights[type]))
    touch(window, row, strongest.get(row)!, settings.contextLength)
  }
  const context = contextOf(window, settings)
  context.rows.forEach((row, j) => {
    addItemVector(weights, itemFeatures, row, context.weights[j]!, query)
  })
  return query
}

/** Keeps `keep` of the parallel lists' entries, chosen uniformly (a partial Fisher–Yates), in their order. */
function keepRandom<T>(targets: number[], contexts: T[], keep: number, rng: Rng): void {
  const index = targets.map((_, i) => i)
  for (let i = 0; i < keep; i++) {
    const j = i + rng.int(index.length - i)
    ;[index[i], index[j]] = [index[j]!, index[i]!]
  }
  const chosen = index.slice(0, keep).sort((a, b) => a - b)
  const t = chosen.map((i) => targets[i]!)
  const c = chosen.map((i) => contexts[i]!)
  targets.splice(0, targets.length, ...t)
  contexts.splice(0, contexts.length, ...c)
}

/** Moves `row` to the newest end of the window (or adds it), dropping the oldest beyond `length`. */
function touch(window: Window, row: number, weight: number, length: number): void {
  const at = window.rows.lastIndexOf(row)
  if (at >= 0) {
    window.rows.splice(at, 1)
    window.weights.splice(at, 1)
  }
  window.rows.push(row)
  window.weights.push(weight)
  if (window.rows.length > length) {
    window.rows.shift()
    window.weights.shift()
  }
}

function contextOf(window: Window, settings: SequenceSettings): { rows: number[]; weights: number[] } {
  const n = window.rows.length
  const weights = window.weights.map((w, j) => w * settings.recency ** (n - 1 - j))
  const total = weights.reduce((a, b) => a + b, 0)
  return { rows: window.rows.slice(), weights: weights.map((w) => (total > 0 ? w / total : 0)) }
}

function emptySamples(k: number, pseudoItems: number[]): SequenceSamples {
  return {
    targets: new Int32Array(0),
    weights: new Float32Array(0),
    negatives: new Int32Array(0),
    negativesPerTarget: k,
    contextStart: new Int32Array(1),
    contextRows: new Int32Array(0),
    contextWeights: new Float32Array(0),
    count: 0,
    realTargets: 0,
    pseudoItems,
  }
}

/** Throws `ModelError('bad_option')` unless the window has at least one item and a recency in (0, 1]. */
export function checkSettings(s: SequenceSettings): void {
  if (!Number.isInteger(s.contextLength) || s.contextLength < 1) {
    throw new ModelError('bad_option', `contextLength must be an integer >= 1, got ${s.contextLength}`)
  }
  if (!(Number.isFinite(s.recency) && s.recency > 0 && s.recency <= 1)) {
    throw new ModelError('bad_option', `recency must be in (0, 1], got ${s.recency}`)
  }
}

function checkEventWeights(eventWeights: EventWeights): void {
  for (const type of EVENT_TYPES) {
    const w = eventWeights[type]
    if (!(Number.isFinite(w) && w > 0)) {
      throw new ModelError('bad_option', `event weight for ${type} must be finite and > 0, got ${w}`)
    }
  }
}
