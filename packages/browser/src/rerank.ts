// Reordering a list the shop already has (search results, a category page, promotions): the types of
// `rerank()` and the pure ordering (the worker runs it beside the cached model).
import { rerankByScore } from '@fedrec/core/client'
import type { LeaveOut } from './events.ts'

/**
 * Where the list comes from. A label for the shop's own analytics and logs: it is echoed back in the answer
 * and does not change the order (the model knows nothing per context), nor is it stored or sent.
 */
export type RerankContext = 'search' | 'category' | 'promotions' | (string & {})

/**
 * Where the ids the model does not know (new products, ids of another catalogue) go:
 * - 'keep-place' (default): each stays at its index in the shop's list and the known items are reordered
 *   around it, so a new product the shop's search put second is still second;
 * - 'last': after every known item, in their original relative order.
 */
export type UnknownPlacement = 'keep-place' | 'last'

/** Options of `rerank()`. */
export interface RerankOptions {
  /** Where the list comes from (default 'list'); see {@link RerankContext}. */
  context?: RerankContext
  /** Where ids the model does not know go (default 'keep-place'); see {@link UnknownPlacement}. */
  unknown?: UnknownPlacement
  /**
   * Which of the shopper's own items to drop from the list, as in `recommend` ('carted', 'bought', 'seen'),
   * or 'none' (default): a search result must not silently lose what the shopper already bought.
   */
  leaveOut?: LeaveOut | 'none'
  /** Return only the first k of the new order (default: all of them), e.g. the best 4 of 12 promotions. */
  k?: number
}

/**
 * How the list was ordered:
 * - `personal`: by this shopper's model (their recent items on this device, pooled) plus popularity;
 * - `popular`: by the global model's popularity alone (item biases) — a shopper with no history yet;
 * - `none`: left in the shop's order — no model on this device yet (rerank never downloads one), or a model
 *   that has not been trained (version 0).
 */
export type RerankKind = 'personal' | 'popular' | 'none'

/**
 * Why an item is where it is: scored by the shopper's model (`personal`), by popularity alone
 * (`popular`), not known to the model and placed by `unknown` (`unknown`), or not ranked at all because
 * there is nothing to rank with (`unranked`, every item of a `none` answer).
 */
export type RerankReason = 'personal' | 'popular' | 'unknown' | 'unranked'

/** One item of the reordered list. */
export interface RerankedItem {
  itemId: string
  /** The model's score (higher is better); null for unknown or unranked items. */
  score: number | null
  reason: RerankReason
}

/** The answer of `rerank()`. */
export interface RerankResult {
  kind: RerankKind
  /** The context label the list was given (default 'list'). */
  context: string
  /** The model version the order came from; -1 when there is no model on this device. */
  modelVersion: number
  /** The shop's ids in the new order, each once; only `leaveOut` and `k` make it shorter. */
  items: RerankedItem[]
  /** The ids `leaveOut` dropped, in the shop's order. */
  leftOut: string[]
}

/** What the ordering needs, with every option resolved. */
export interface OrderRequest {
  /** Each id's score, or undefined for an id the model does not know; null: no model, keep the order. */
  scoreOf: ((itemId: string) => number | undefined) | null
  /** The reason of every scored item. */
  basis: 'personal' | 'popular'
  unknown: UnknownPlacement
  leaveOut: ReadonlySet<string>
  k: number | undefined
}

/**
 * The shop's list in the model's order, best first; ties (equal scores) keep the shop's order. Ids in
 * `leaveOut` are dropped (and reported); ids without a score are placed by `unknown`.
 * @example
 * orderList(['x', 'a', 'b'], { scoreOf: (id) => ({ a: 1, b: 2 })[id], basis: 'personal', unknown: 'keep-place', leaveOut: new Set(), k: undefined })
 * // items: x (unknown, kept first), b (2), a (1)
 */
export function orderList(
  itemIds: readonly string[],
  request: OrderRequest,
): { items: RerankedItem[]; leftOut: string[] } {
  const { scoreOf, basis, unknown, leaveOut, k } = request
  const leftOut = itemIds.filter((id) => leaveOut.has(id))
  const kept = itemIds.filter((id) => !leaveOut.has(id))
  if (scoreOf === null)
    return { items: kept.slice(0, k).map((itemId) => ({ itemId, score: null, reason: 'unranked' })), leftOut }

  const slots: (RerankedItem | null)[] = []
  const known: { itemId: string; score: number; index: number }[] = []
  for (const [index, itemId] of kept.entries()) {
    const score = scoreOf(itemId)
    if (score === undefined) {
      slots.push({ itemId, score: null, reason: 'unknown' })
    } else {
      known.push({ itemId, score, index })
      slots.push(null)
    }
  }
  // Core's one ordering for re-ranking (the simulator measures with it): ties keep the shop's order.
  const best = rerankByScore(known, (item) => item.score).map(
    ({ itemId, score }): RerankedItem => ({ itemId, score, reason: basis }),
  )
  const unknownItems = slots.filter((slot) => slot !== null)
  let items: RerankedItem[]
  if (unknown === 'last') items = [...best, ...unknownItems]
  else {
    let next = 0
    items = slots.map((slot) => slot ?? best[next++]!)
  }
  return { items: items.slice(0, k), leftOut }
}
