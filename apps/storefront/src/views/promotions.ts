// The home page's promotions slot: the best few of the shop's featured products for this shopper.
import type { App } from '../app.ts'
import { h } from '../dom.ts'
import { featuredProducts } from './featured.ts'
import { orderNote } from './order-note.ts'
import { keepReordered, showCards } from './reordered.ts'

/** How many featured products the slot shows. */
export const PROMOTED = 4

/**
 * "Featured picks": the featured products minus what is in the cart, reordered by `rerank()` with context
 * 'promotions' and `leaveOut: 'carted'` (what the shopper carted or bought on this device), best four shown.
 * The section's `data-order` says which order is on screen.
 */
export function promotions(app: App, signal: AbortSignal): HTMLElement {
  const inCart = new Set(app.cart.lines().map((line) => line.id))
  const ids = featuredProducts(app.catalogue)
    .filter((p) => !inCart.has(p.id))
    .map((p) => p.id)
  const note = h('p', { class: 'row-note', 'aria-live': 'polite' })
  const grid = h('ul', { class: 'grid promo-grid', role: 'list' })
  const section = h(
    'section',
    { class: 'row promotions', 'aria-labelledby': 'promotions-heading' },
    h(
      'div',
      { class: 'row-head' },
      h('div', { class: 'row-titles' }, h('h2', { id: 'promotions-heading' }, 'Featured picks'), note),
    ),
    grid,
  )
  keepReordered(
    app,
    signal,
    ids,
    { context: 'promotions', leaveOut: 'carted', k: PROMOTED },
    (shown, order) => {
      section.dataset.order = order
      note.textContent = orderNote(order, 'promotions')
      showCards(app, grid, shown, 'promotions')
    },
  )
  return section
}
