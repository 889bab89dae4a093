// The search page: the shop's own matches for a query, then ordered for the shopper on this device.
import type { App, View } from '../app.ts'
import { h } from '../dom.ts'
import { plural } from '../format.ts'
import { href, type Route } from '../router.ts'
import { orderNote } from './order-note.ts'
import { keepReordered, showCards } from './reordered.ts'
import { searchProducts } from './search-match.ts'

/**
 * Results for `route.query`: the shop's matches (search-match.ts), reordered by `rerank()` with context
 * 'search'. Nothing is dropped: what the shopper bought stays among the results. The results' `data-order`
 * and the note above them say which order is on screen.
 */
export function searchView(route: Extract<Route, { type: 'search' }>, app: App, signal: AbortSignal): View {
  const { query } = route
  const matches = searchProducts(app.catalogue.products, query)
  const heading = h(
    'h1',
    { tabindex: '-1' },
    query.trim() === '' ? 'Search the shop' : `Results for “${query}”`,
  )
  const title = query.trim() === '' ? 'Search — Bramble' : `${query} — search — Bramble`
  if (matches.length === 0) {
    const hint =
      query.trim() === ''
        ? 'Type a product, a department or what it is for in the search box above.'
        : `Nothing matches “${query}”. Try fewer or shorter words.`
    return {
      title,
      el: h(
        'div',
        { class: 'page page-message page-search' },
        heading,
        h('p', null, hint),
        h('a', { class: 'btn btn-ghost', href: href({ type: 'home', category: null }) }, 'Shop everything'),
      ),
    }
  }
  const note = h('p', { class: 'row-note', 'aria-live': 'polite' })
  const grid = h('ul', { class: 'grid', role: 'list', 'aria-label': 'Search results' })
  const results = h('section', { class: 'search-results' }, note, grid)
  keepReordered(
    app,
    signal,
    matches.map((p) => p.id),
    { context: 'search' },
    (shown, order) => {
      results.dataset.order = order
      note.textContent = orderNote(order, 'search')
      showCards(app, grid, shown, 'search')
    },
  )
  const el = h(
    'div',
    { class: 'page page-search' },
    h(
      'div',
      { class: 'catalogue-head' },
      heading,
      h('p', { class: 'muted' }, plural(matches.length, 'product')),
    ),
    results,
  )
  return { el, title }
}
