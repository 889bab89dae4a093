// Ranking helpers that need no tfjs: popularity by item bias and "why this?" by embedding similarity. Plain
// loops over the model's arrays, so they run in the worker (next to the cached model) and, for the widget's
// degraded mode, on the page's main thread without pulling tfjs into the page's bundle.
import { ITEM_BIAS, type ModelSnapshot } from '@fedrec/protocol'
import type { LeaveOut } from './events.ts'

/** What `suggest()` is asked for. */
export type SuggestMode = 'for-you' | 'similar' | 'popular'

/** A request to `suggest()`. */
export interface SuggestRequest {
  /** 'for-you' (default): personal when there is a trained profile, else popular; 'similar': like `itemId`. */
  mode?: SuggestMode
  /** How many items (default 10). */
  k?: number
  /** The item of a 'similar' request ("Because you viewed …"). */
  itemId?: string
  /** Item ids not to show, e.g. the product on the page or what is in the cart. */
  exclude?: readonly string[]
  /** Which of the shopper's own items are not shown again, as in `recommend` (default 'carted'). */
  leaveOut?: LeaveOut
}

/** Why an item is suggested: the nearest item, in the model's embedding space, the shopper interacted with. */
export interface Because {
  itemId: string
  /** Cosine similarity of the two items' embeddings, −1 … 1. */
  similarity: number
}

/** One suggested item. */
export interface Suggestion {
  itemId: string
  score: number
  /** The shopper's own item this one is closest to; null for popular items. */
  because: Because | null
}

/**
 * - `personal`: scored with this shopper's private profile;
 * - `similar`: nearest to the requested item in embedding space;
 * - `popular`: by the global model's item biases (what many shoppers interact with) — a new shopper, or a
 *   shopper whose profile is not trained yet;
 * - `none`: the model has no signal yet (version 0: every bias is 0), so there is nothing honest to show.
 */
export type SuggestionKind = 'personal' | 'similar' | 'popular' | 'none'

/** The answer of `suggest()`: the items and which kind of ranking produced them. */
export interface SuggestionSet {
  kind: SuggestionKind
  /** The global model version the ranking came from (-1 when there is no model). */
  modelVersion: number
  items: Suggestion[]
}

export interface RankedRow {
  row: number
  score: number
}

/**
 * True when the biases rank anything: a fresh model (every bias 0) has no popularity to report.
 * @example hasPopularitySignal(Float32Array.of(0, 0, 0)) // false
 */
export function hasPopularitySignal(bias: Float32Array): boolean {
  const first = bias[0]
  for (let i = 1; i < bias.length; i++) if (bias[i] !== first) return true
  return false
}

/**
 * The `k` rows with the highest bias, best first, ties by row; `skip` leaves rows out. O(n·k), fine for
 * the k ≤ 50 a page shows.
 * @example topByBias(Float32Array.of(0.1, 0.5, 0.3), 2) // [{ row: 1, score: 0.5 }, { row: 2, score: 0.3 }]
 */
export function topByBias(bias: Float32Array, k: number, skip?: (row: number) => boolean): RankedRow[] {
  const out: RankedRow[] = []
  for (let row = 0; row < bias.length; row++) {
    if (skip?.(row)) continue
    const score = bias[row]!
    if (out.length === k && score <= out[k - 1]!.score) continue
    let at = out.length
    while (at > 0 && out[at - 1]!.score < score) at--
    out.splice(at, 0, { row, score })
    if (out.length > k) out.pop()
  }
  return out
}

/**
 * The row among `candidates` whose embedding is most cosine-similar to `row`'s (`row` itself excluded), or
 * null when there is none (or every candidate is orthogonal or zero).
 * @example nearestRow(embedding, 32, 7, [3, 12, 40]) // { row: 12, similarity: 0.83 }
 */
export function nearestRow(
  embedding: Float32Array,
  dim: number,
  row: number,
  candidates: Iterable<number>,
): { row: number; similarity: number } | null {
  const a = row * dim
  const normA = norm(embedding, a, dim)
  if (normA === 0) return null
  let best: { row: number; similarity: number } | null = null
  for (const c of candidates) {
    if (c === row) continue
    const b = c * dim
    const normB = norm(embedding, b, dim)
    if (normB === 0) continue
    let dot = 0
    for (let j = 0; j < dim; j++) dot += embedding[a + j]! * embedding[b + j]!
    const similarity = dot / (normA * normB)
    if (best === null || similarity > best.similarity) best = { row: c, similarity }
  }
  return best
}

function norm(values: Float32Array, offset: number, dim: number): number {
  let sum = 0
  for (let j = 0; j < dim; j++) sum += values[offset + j]! ** 2
  return Math.sqrt(sum)
}

/**
 * Popular items straight from a decoded model (the widget's degraded mode, on the main thread). With a
 * `shop`, the model is one several shops share: only ids `<shop>:…` count, returned without the prefix.
 * @example popularFromSnapshot(decodeModel(bytes), 8, new Set(['sku-1']))
 */
export function popularFromSnapshot(
  snapshot: ModelSnapshot,
  k: number,
  exclude: ReadonlySet<string> = new Set(),
  shop?: string,
): SuggestionSet {
  const prefix = shop === undefined ? '' : `${shop}:`
  const own = (row: number) => snapshot.itemIds[row]!.startsWith(prefix)
  const idOf = (row: number) => snapshot.itemIds[row]!.slice(prefix.length)
  const all = snapshot.tensors.find((t) => t.name === ITEM_BIAS)?.values
  const bias = all && shop !== undefined ? all.filter((_, row) => own(row)) : all
  if (!all || !bias || !hasPopularitySignal(bias))
    return { kind: 'none', modelVersion: snapshot.modelVersion, items: [] }
  const rows = topByBias(all, k, (row) => !own(row) || exclude.has(idOf(row)))
  return {
    kind: 'popular',
    modelVersion: snapshot.modelVersion,
    items: rows.map(({ row, score }) => ({ itemId: idOf(row), score, because: null })),
  }
}
