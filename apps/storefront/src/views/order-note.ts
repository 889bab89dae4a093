// What the shop says about the order of a reranked list: only what the order delivers, in a shopper's words.
import type { RerankKind, RerankResult } from '@fedrec/browser'

/**
 * How a list on screen is ordered: one of the library's kinds, or the shop's own order because learning is
 * paused ('paused') or the recommender is unavailable or failed ('off'); 'pending' until the answer comes.
 */
export type ListOrder = RerankKind | 'paused' | 'off' | 'pending'

/** The lists the shop reorders. */
export type ReorderedList = 'search' | 'promotions'

/**
 * The order of a list from `learner.rerank()`'s answer (null: the shop's own order) and the pause switch.
 * @example listOrder(null, true) // 'paused'
 */
export function listOrder(result: RerankResult | null, paused: boolean): ListOrder {
  if (result) return result.kind
  return paused ? 'paused' : 'off'
}

const SHOP_ORDER: Record<ReorderedList, string> = {
  search: 'Best matches first',
  promotions: 'A few of our featured products',
}

/**
 * One sentence on how `list` is ordered. It promises only what the order is: "closest to what you looked
 * at" for a personal order, "popular" for popularity, and the shop's own order otherwise, with why.
 * @example orderNote('popular', 'search') // 'Most popular with shoppers first, among the matches.'
 */
export function orderNote(order: ListOrder, list: ReorderedList): string {
  switch (order) {
    case 'personal':
      return list === 'search'
        ? 'Sorted for you: matches closest to what you have looked at come first, worked out on this device.'
        : 'Picked for you from our featured products, closest to what you have looked at, on this device.'
    case 'popular':
      return list === 'search'
        ? 'Most popular with shoppers first, among the matches.'
        : 'Our featured products most popular with shoppers.'
    case 'none':
      return `${SHOP_ORDER[list]}, in our usual order: there is no shared model on this device yet.`
    case 'paused':
      return `${SHOP_ORDER[list]}, in our usual order: learning is paused, so nothing is personalised.`
    case 'off':
      return `${SHOP_ORDER[list]}, in our usual order.`
    case 'pending':
      return `${SHOP_ORDER[list]}.`
    default: {
      const unreachable: never = order
      return unreachable
    }
  }
}
