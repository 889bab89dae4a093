// The storefront as the library's first adopter: a shop embedding <fedrec-recommendations> with its own
// cards.
import { type FedrecRecommendations, type ItemClickDetail, WIDGET_SOURCE } from '@fedrec/browser'
import type { App } from '../app.ts'
import { productCard } from './product-card.ts'

export interface RecommendationsOptions {
  heading: string
  /** 'similar' with `item` for "Because you viewed …"; 'for-you' (default) otherwise. */
  mode?: 'for-you' | 'similar'
  item?: string
  /** Ids not to show (the product on the page, what is in the cart). */
  exclude?: readonly string[]
  count?: number
}

/**
 * The library's `<fedrec-recommendations>` element, used as a customer would: the shop's own product card
 * for each item, its recommender (so the page's status and background sync keep up), and a refresh when the
 * model or the history changes.
 */
export function recommendations(
  app: App,
  signal: AbortSignal,
  options: RecommendationsOptions,
): FedrecRecommendations {
  const { heading, mode = 'for-you', item, exclude = [], count = 10 } = options
  const el = document.createElement('fedrec-recommendations')
  el.className = 'rec-row'
  el.setAttribute('endpoint', app.learner.endpoint)
  if (app.learner.shop) el.setAttribute('shop', app.learner.shop)
  el.setAttribute('heading', heading)
  el.setAttribute('count', String(count))
  el.setAttribute('mode', mode)
  if (item) el.setAttribute('item', item)
  setExclude(el, exclude)
  el.recommender = app.learner.recommender
  el.itemLabel = (id) => app.catalogue.byId(id)?.name ?? id
  el.renderItem = ({ itemId }) => {
    const product = app.catalogue.byId(itemId)
    // An id the model knows but this catalogue does not (yet): skip it rather than show a blank card.
    return product ? productCard(product, app) : null
  }
  // The widget records the click itself (marked as its own); the product page must not count it again. In
  // its degraded and empty states it records nothing (e.g. no tfjs backend, while the history still works),
  // so the product page's own view is the only record then.
  el.addEventListener(
    'fedrec-item-click',
    (event) => {
      const { state } = (event as CustomEvent<ItemClickDetail>).detail
      if (state !== 'degraded' && state !== 'empty') app.setVisitSource(WIDGET_SOURCE)
    },
    { signal },
  )
  app.learner.subscribe((change) => {
    if (change === 'recommendations') void el.refresh()
  }, signal)
  return el
}

/** Updates what the element leaves out (it reloads on its own when the attribute changes). */
export function setExclude(el: FedrecRecommendations, ids: readonly string[]): void {
  el.setAttribute('exclude', ids.join(' '))
}
