import type { App, View } from '../app.ts'
import type { CartLine } from '../cart.ts'
import type { Product } from '../catalogue.ts'
import { h, ICONS, icon, keepFocus, replaceChildren } from '../dom.ts'
import { formatPrice, plural } from '../format.ts'
import { productImage } from '../placeholder.ts'
import { href } from '../router.ts'
import { recommendations, setExclude } from './recommendations.ts'

export const FREE_DELIVERY_FROM = 50
export const DELIVERY_FEE = 4.95

interface PricedLine extends CartLine {
  product: Product
}

interface Order {
  number: string
  units: number
  total: number
}

/** Cart: lines with quantities, totals, and "Buy now", which records a `purchase` per line. */
export function cartView(app: App, signal: AbortSignal): View {
  const body = h('div', { class: 'cart-body' })
  let placed: Order | null = null

  const render = (): void => {
    const lines = app.cart.lines().flatMap((line): PricedLine[] => {
      const product = app.catalogue.byId(line.id)
      return product ? [{ ...line, product }] : []
    })
    // Redrawing replaces the buttons: keep keyboard focus on the "same" control, or on the title when its
    // line is gone (quantity down to 0).
    keepFocus(
      body,
      () => {
        if (lines.length === 0) replaceChildren(body, placed ? confirmation(placed) : emptyCart())
        else replaceChildren(body, filledCart(lines))
      },
      () => document.getElementById('cart-title'),
    )
  }

  const filledCart = (lines: PricedLine[]): HTMLElement => {
    const subtotal = lines.reduce((sum, l) => sum + l.qty * l.product.price, 0)
    const units = lines.reduce((sum, l) => sum + l.qty, 0)
    const delivery = subtotal >= FREE_DELIVERY_FROM ? 0 : DELIVERY_FEE
    const total = subtotal + delivery
    const buy = (): void => {
      for (const line of lines) app.learner.track({ type: 'purchase', itemId: line.product.id })
      placed = { number: orderNumber(), units, total }
      app.cart.clear()
      app.announce('Order placed. Thank you!')
      document.getElementById('cart-title')?.focus()
    }
    return h(
      'div',
      { class: 'cart-layout' },
      h(
        'ul',
        { class: 'cart-lines', role: 'list', 'aria-label': 'Items in your cart' },
        lines.map((line) => cartLine(line)),
      ),
      h(
        'aside',
        { class: 'summary', 'aria-labelledby': 'summary-title' },
        h('h2', { id: 'summary-title' }, 'Order summary'),
        h(
          'dl',
          null,
          h(
            'div',
            null,
            h('dt', null, `Subtotal (${plural(units, 'item')})`),
            h('dd', null, formatPrice(subtotal)),
          ),
          h(
            'div',
            null,
            h('dt', null, 'Delivery'),
            h('dd', null, delivery === 0 ? 'Free' : formatPrice(delivery)),
          ),
          h('div', { class: 'summary-total' }, h('dt', null, 'Total'), h('dd', null, formatPrice(total))),
        ),
        delivery > 0 &&
          h(
            'p',
            { class: 'muted small' },
            `Add ${formatPrice(FREE_DELIVERY_FROM - subtotal)} more for free delivery.`,
          ),
        h(
          'button',
          { type: 'button', class: 'btn btn-primary btn-large btn-block', onclick: buy },
          'Buy now',
        ),
        h('p', { class: 'muted small' }, 'This is a demo shop: no payment is taken and nothing is shipped.'),
      ),
    )
  }

  const cartLine = ({ product, qty }: PricedLine): HTMLElement => {
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

  const inCart = () => app.cart.lines().map((l) => l.id)
  const alsoLike = recommendations(app, signal, {
    heading: 'You might also like',
    exclude: inCart(),
    count: 8,
  })
  app.cart.subscribe(() => setExclude(alsoLike, inCart()), signal)
  app.cart.subscribe(render, signal)
  render()

  return {
    el: h(
      'div',
      { class: 'page page-cart' },
      h('h1', { id: 'cart-title', tabindex: '-1' }, 'Your cart'),
      body,
      alsoLike,
    ),
    title: 'Your cart — Bramble',
  }
}

function emptyCart(): HTMLElement {
  return h(
    'div',
    { class: 'panel panel-empty' },
    h('p', { class: 'panel-title' }, 'Your cart is empty'),
    h('p', { class: 'muted' }, 'Find something you love — it will wait for you here.'),
    h('a', { class: 'btn btn-primary', href: href({ type: 'home', category: null }) }, 'Continue shopping'),
  )
}

function confirmation(order: Order): HTMLElement {
  return h(
    'div',
    { class: 'panel panel-success', role: 'status' },
    icon(ICONS.check, 32),
    h('p', { class: 'panel-title' }, 'Thank you — your order is placed'),
    h(
      'p',
      { class: 'muted' },
      `Order ${order.number}: ${plural(order.units, 'item')}, ${formatPrice(order.total)}. Your recommendations now leave out what you bought.`,
    ),
    h('a', { class: 'btn btn-primary', href: href({ type: 'home', category: null }) }, 'Continue shopping'),
  )
}

const orderNumber = (): string => `#${String(Math.floor(100000 + Math.random() * 900000))}`
