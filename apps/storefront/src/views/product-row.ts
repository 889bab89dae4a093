// The shop's plain rows of products, next to the personalised ones of the recommendation widget.
import type { App } from '../app.ts'
import type { Product } from '../catalogue.ts'
import { h } from '../dom.ts'
import { productCard } from './product-card.ts'
import { railControls } from './rail-controls.ts'

/** A titled horizontal row of known products (e.g. "More from Kitchen"), no personalisation. */
export function productRow(
  app: App,
  signal: AbortSignal,
  title: string,
  products: readonly Product[],
): HTMLElement {
  const headingId = `row-${Math.random().toString(36).slice(2, 8)}`
  const wrap = h(
    'div',
    { class: 'rail-wrap' },
    h(
      'ul',
      { class: 'rail', role: 'list' },
      products.map((p) => h('li', null, productCard(p, app))),
    ),
  )
  return h(
    'section',
    { class: 'row', 'aria-labelledby': headingId },
    h(
      'div',
      { class: 'row-head' },
      h('div', { class: 'row-titles' }, h('h2', { id: headingId }, title)),
      railControls(wrap, title, signal),
    ),
    wrap,
  )
}
