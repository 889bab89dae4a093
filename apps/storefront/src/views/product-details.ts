/** The product page's article: picture, name, price, description, "Add to cart" with what is in the cart, and the perks. */
import type { App } from '../app.ts'
import type { Product } from '../catalogue.ts'
import { h, ICONS, icon } from '../dom.ts'
import { formatPrice, plural } from '../format.ts'
import { productImage } from '../placeholder.ts'
import { href } from '../router.ts'
import { addToCart } from './product-card.ts'

/** The `<article>`; its "in your cart" line follows the cart until `signal` aborts. */
export function productDetails(
  app: App,
  product: Product,
  categoryHref: string,
  signal: AbortSignal,
): HTMLElement {
  return h(
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
        inCartLine(app, product, signal),
      ),
      h(
        'ul',
        { class: 'perks', role: 'list' },
        h('li', null, icon(ICONS.truck), 'Free delivery on orders over $50'),
        h('li', null, icon(ICONS.returns), '30-day returns, no questions asked'),
        h('li', null, icon(ICONS.shield), 'Suggestions learned on your device, not on our servers'),
      ),
    ),
  )
}

/** "2 units in your cart · View cart", empty while none are. */
function inCartLine(app: App, product: Product, signal: AbortSignal): HTMLElement {
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
  return inCart
}
