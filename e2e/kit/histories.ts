// Synthetic shoppers for QA scenarios when no data set is given: shared tastes, so federation has something
// to learn.
import type { EventType } from '@fedrec/browser'
import { categoriesOf, type Product } from './catalogue.ts'
import { sample, seeded } from './random.ts'

/** One interaction to `track()`. */
export interface HistoryEvent {
  type: EventType
  itemId: string
}

/** Who a simulated shopper is: what they did, and optionally one item they will want next (for HR@10). */
export interface ShopperProfile {
  name: string
  /** Tracked, oldest first, when the shopper opens the shop. */
  events: HistoryEvent[]
  /** Held out (never tracked): ranked against 99 sampled negatives to measure HR@10. */
  heldOut?: string
  /** Free-form label, e.g. the favourite category. */
  taste?: string
}

export interface TasteProfileOptions {
  shoppers: number
  products: readonly Product[]
  /** Interactions per shopper in the favourite category (default 10). */
  events?: number
  /** How many distinct tastes; two or more shoppers share each, so federation has something to share. */
  tastes?: number
  seed?: number
}

/**
 * Synthetic shoppers with a favourite category each: clicks, carts and purchases in that category (drawn
 * from a pool shared by the shoppers of that taste), one stray click elsewhere, and a held-out item of the
 * pool that a peer of the same taste touched (when there is a peer).
 * @example const profiles = tasteProfiles({ shoppers: 6, products: loadStorefrontCatalogue(), seed: 1 })
 */
export function tasteProfiles(options: TasteProfileOptions): ShopperProfile[] {
  const { shoppers, products, events = 10, seed = 1 } = options
  const categories = categoriesOf(products)
  const tastes = Math.max(1, Math.min(options.tastes ?? Math.ceil(shoppers / 2), categories.length))
  const rng = seeded(seed)
  const types: EventType[] = ['click', 'click', 'add_to_cart', 'click', 'purchase']
  // Shoppers of one taste draw from a shared pool a little larger than one history, and each holds out an
  // item of the pool that another shopper of that taste touched: collaborative filtering can learn it.
  const pools = categories.slice(0, tastes).map((taste) =>
    sample(
      products.filter((p) => p.category === taste).map((p) => p.id),
      events + 4,
      rng,
    ),
  )
  const histories = Array.from({ length: shoppers }, (_, i) => {
    const taste = categories[i % tastes]!
    const others = products.filter((p) => p.category !== taste).map((p) => p.id)
    const picked = sample(pools[i % tastes]!, events, rng)
    const history: HistoryEvent[] = picked.map((itemId, j) => ({ type: types[j % types.length]!, itemId }))
    history.splice(Math.floor(rng() * history.length), 0, {
      type: 'click',
      itemId: sample(others, 1, rng)[0]!,
    })
    return { taste, picked: new Set(picked), history }
  })
  return histories.map(({ taste, picked, history }, i) => {
    const touchedByPeers = new Set(
      histories.filter((h, j) => j !== i && h.taste === taste).flatMap((h) => [...h.picked]),
    )
    const unseen = pools[i % tastes]!.filter((id) => !picked.has(id))
    const heldOut = unseen.find((id) => touchedByPeers.has(id)) ?? unseen[0]
    return {
      name: `shopper-${i} (${taste})`,
      events: history,
      taste,
      ...(heldOut === undefined ? {} : { heldOut }),
    }
  })
}
