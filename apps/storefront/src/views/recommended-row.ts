import type { App } from '../app.ts'
import type { Product } from '../catalogue.ts'
import { h, replaceChildren } from '../dom.ts'
import { productCard, skeletonCard } from './product-card.ts'
import { railControls } from './rail-controls.ts'

export interface RecommendedRowOptions {
  /** How many cards to show (default 10). */
  k?: number
  /** Ids not to show here, e.g. the product the page is about. */
  exclude?: readonly string[]
  title?: string
}

const EMPTY_NOTE = "Browse a few products and we'll learn what you like — privately, on this device."

/**
 * "Recommended for you": `recommend()` rendered as product cards. A skeleton shows until the first answer;
 * later refreshes (after a sync or a purchase) swap the cards in place without flashing the skeleton.
 */
export function recommendedRow(
  app: App,
  signal: AbortSignal,
  { k = 10, exclude = [], title = 'Recommended for you' }: RecommendedRowOptions = {},
): HTMLElement {
  const headingId = `rec-${Math.random().toString(36).slice(2, 8)}`
  const rail = h('div', { class: 'rail-wrap' })
  const section = h(
    'section',
    { class: 'row rec-row', 'aria-labelledby': headingId, 'aria-busy': 'true' },
    h(
      'div',
      { class: 'row-head' },
      h(
        'div',
        { class: 'row-titles' },
        h('h2', { id: headingId }, title),
        h(
          'p',
          { class: 'row-note' },
          'Learned on this device from what you browse. Your history never leaves it.',
        ),
      ),
      railControls(rail, title, signal),
    ),
    rail,
  )
  replaceChildren(rail, h('div', { class: 'rail' }, Array.from({ length: 5 }, skeletonCard)))

  let latest = 0
  const load = async (): Promise<void> => {
    const mine = ++latest
    const skip = new Set(exclude)
    const found = await app.learner.recommend(k + skip.size)
    if (signal.aborted || mine !== latest) return
    // A model nobody has trained yet scores every item the same: that is no ranking, just catalogue order,
    // so it is shown as "nothing learned yet" rather than as advice.
    const ranked = found.length > 1 && found.every((r) => r.score === found[0]!.score) ? [] : found
    const products = ranked
      .map((r) => app.catalogue.byId(r.itemId))
      .filter((p): p is Product => p !== undefined && !skip.has(p.id))
      .slice(0, k)
    section.setAttribute('aria-busy', 'false')
    if (products.length === 0) {
      replaceChildren(rail, h('p', { class: 'empty-note' }, EMPTY_NOTE))
      return
    }
    replaceChildren(
      rail,
      h(
        'ul',
        { class: 'rail', role: 'list' },
        products.map((p) => h('li', null, productCard(p, app, { source: 'recommendation' }))),
      ),
    )
  }

  app.learner.subscribe((change) => {
    if (change === 'recommendations') void load()
  }, signal)
  void load()
  return section
}
