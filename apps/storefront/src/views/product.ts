/** The product page: breadcrumb, the product (product-details.ts), similar items and more from its department. */
import { WIDGET_SOURCE } from '@fedrec/browser'
import type { App, View } from '../app.ts'
import { categorySlug, type Product } from '../catalogue.ts'
import { h } from '../dom.ts'
import { href, type Route } from '../router.ts'
import { notFoundView } from './not-found.ts'
import { productDetails } from './product-details.ts'
import { productRow } from './product-row.ts'
import { recommendations } from './recommendations.ts'

/** Product page. Opening it records a `click`; "Add to cart" records an `add_to_cart`. */
export function productView(route: Extract<Route, { type: 'product' }>, app: App, signal: AbortSignal): View {
  const product = app.catalogue.byId(route.id)
  if (!product) return notFoundView(app, "We couldn't find that product. It may have sold out for good.")

  const source = app.takeVisitSource()
  // A visit from the recommendations widget was already recorded by the widget, marked as its own.
  if (source !== WIDGET_SOURCE) {
    app.learner.track({ type: 'click', itemId: product.id, ...(source ? { source } : {}) })
  }

  const categoryHref = href({ type: 'home', category: categorySlug(product.category) })
  const details = productDetails(app, product, categoryHref, signal)
  const el = h(
    'div',
    { class: 'page page-product' },
    breadcrumb(product, categoryHref),
    details,
    recommendations(app, signal, {
      heading: `Because you viewed ${product.name}`,
      mode: 'similar',
      item: product.id,
      exclude: [product.id],
      count: 8,
    }),
    productRow(app, signal, `More from ${product.category}`, neighbours(app.catalogue.products, product, 8)),
  )
  return { el, title: `${product.name} — Bramble` }
}

function breadcrumb(product: Product, categoryHref: string): HTMLElement {
  return h(
    'nav',
    { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
    h(
      'ol',
      null,
      h('li', null, h('a', { href: href({ type: 'home', category: null }) }, 'Shop')),
      h('li', null, h('a', { href: categoryHref }, product.category)),
      h('li', null, h('span', { 'aria-current': 'page' }, product.name)),
    ),
  )
}

/** The next `n` products of the same category after this one, wrapping around. */
function neighbours(products: readonly Product[], product: Product, n: number): Product[] {
  const same = products.filter((p) => p.category === product.category)
  const at = same.findIndex((p) => p.id === product.id)
  return Array.from({ length: Math.min(n, same.length - 1) }, (_, i) => same[(at + 1 + i) % same.length]!)
}
