import { WIDGET_SOURCE } from '@fedrec/browser'
import type { App, View } from '../app.ts'
import { categorySlug, type Product } from '../catalogue.ts'
import { h, ICONS, icon } from '../dom.ts'
import { formatPrice, plural } from '../format.ts'
import { productImage } from '../placeholder.ts'
import { href, type Route } from '../router.ts'
import { notFoundView } from './not-found.ts'
import { addToCart } from './product-card.ts'
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

  const inCart = h('p', { class: 'in-cart', 'aria-live': 'polite' })
  const showInCart = (): void => {
    const qty = app.cart.lines().find((l) => l.id === product.id)?.qty ?? 0
    inCart.replaceChildren()
    if (qty > 0) {
      inCart.append(
        icon(ICONS.check, 16),
        ` ${plural(qty, 'unit')} in your cart · `,
        h('a', { href: href({ type: 'cart' }) }, 'View cart'),
      )
    }
  }
  app.cart.subscribe(showInCart, signal)
  showInCart()

  const categoryHref = href({ type: 'home', category: categorySlug(product.category) })
  const el = h(
    'div',
    { class: 'page page-product' },
    h(
      'nav',
      { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
      h(
        'ol',
        null,
        h('li', null, h('a', { href: href({ type: 'home', category: null }) }, 'Shop')),
        h('li', null, h('a', { href: categoryHref }, product.category)),
        h('li', null, h('span', { 'aria-current': 'page' }, product.name)),
      ),
    ),
    h(
      'article',
      { class: 'product', 'aria-labelledby': 'product-title' },
      h(
        'div',
        { class: 'product-media' },
        h('img', {
          src: productImage(product),
          alt: `Illustration of the ${product.name}: the ${product.category.toLowerCase()} symbol on a tinted card`,
          width: 400,
          height: 300,
        }),
      ),
      h(
        'div',
        { class: 'product-info' },
        h('a', { class: 'product-category', href: categoryHref }, product.category),
        h('h1', { id: 'product-title', tabindex: '-1' }, product.name),
        h('p', { class: 'product-price' }, formatPrice(product.price)),
        h('p', { class: 'product-desc' }, product.description),
        h(
          'div',
          { class: 'product-buy' },
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-primary btn-large',
              onclick: () => addToCart(app, product),
            },
            icon(ICONS.cart, 20),
            'Add to cart',
          ),
          inCart,
        ),
        h(
          'ul',
          { class: 'perks', role: 'list' },
          h('li', null, icon(ICONS.truck), 'Free delivery on orders over $50'),
          h('li', null, icon(ICONS.returns), '30-day returns, no questions asked'),
          h('li', null, icon(ICONS.shield), 'Suggestions learned on your device, not on our servers'),
        ),
      ),
    ),
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

/** The next `n` products of the same category after this one, wrapping around. */
function neighbours(products: readonly Product[], product: Product, n: number): Product[] {
  const same = products.filter((p) => p.category === product.category)
  const at = same.findIndex((p) => p.id === product.id)
  return Array.from({ length: Math.min(n, same.length - 1) }, (_, i) => same[(at + 1 + i) % same.length]!)
}
