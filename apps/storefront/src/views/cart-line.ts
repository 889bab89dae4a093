/** One line of the cart page: thumbnail, name, quantity stepper, line total and remove button. */
import type { App } from '../app.ts'
import type { CartLine } from '../cart.ts'
import type { Product } from '../catalogue.ts'
import { h, ICONS, icon } from '../dom.ts'
import { formatPrice } from '../format.ts'
import { productImage } from '../placeholder.ts'
import { href } from '../router.ts'

/** A cart line with its product from the catalogue. */
export interface PricedLine extends CartLine {
  product: Product
}

/** The `<li>` of one line; its buttons carry `data-focus-key`s so a redraw keeps keyboard focus. */
export function cartLine(app: App, { product, qty }: PricedLine): HTMLElement {
  const productHref = href({ type: 'product', id: product.id })
  const step = (delta: number, label: string, path: string) =>
    h(
      'button',
      {
        type: 'button',
        class: 'btn-icon',
        'aria-label': `${label} quantity of ${product.name}`,
        'data-focus-key': `${product.id}:${delta}`,
        onclick: () => app.cart.setQty(product.id, qty + delta),
      },
      icon(path, 16),
    )
  return h(
    'li',
    { class: 'cart-line', 'data-product-id': product.id },
    h(
      'a',
      { class: 'cart-thumb', href: productHref, tabindex: '-1', 'aria-hidden': 'true' },
      h('img', { src: productImage(product), alt: '', width: 120, height: 90 }),
    ),
    h(
      'div',
      { class: 'cart-line-info' },
      h('a', { class: 'cart-line-name', href: productHref }, product.name),
      h('span', { class: 'muted small' }, `${product.category} · ${formatPrice(product.price)} each`),
    ),
    h(
      'div',
      { class: 'stepper', role: 'group', 'aria-label': `Quantity of ${product.name}` },
      step(-1, 'Decrease', ICONS.minus),
      h('span', { class: 'stepper-value', 'aria-live': 'polite' }, String(qty)),
      step(1, 'Increase', ICONS.plus),
    ),
    h('span', { class: 'cart-line-total' }, formatPrice(qty * product.price)),
    h(
      'button',
      {
        type: 'button',
        class: 'btn-icon btn-remove',
        'aria-label': `Remove ${product.name} from cart`,
        'data-focus-key': `${product.id}:remove`,
        onclick: () => {
          app.cart.remove(product.id)
          app.announce(`Removed ${product.name}`)
          document.getElementById('cart-title')?.focus()
        },
      },
      icon(ICONS.trash, 18),
    ),
  )
}
