/**
 * The cart page. Its parts: cart-line.ts (one line), cart-summary.ts and cart-totals.ts (the order summary),
 * cart-panels.ts (empty cart, order placed).
 * @module
 */
import type { App, View } from '../app.ts'
import { h, keepFocus, replaceChildren } from '../dom.ts'
import { cartLine, type PricedLine } from './cart-line.ts'
import { confirmation, emptyCart, type Order, orderNumber } from './cart-panels.ts'
import { orderSummary } from './cart-summary.ts'
import { cartTotals } from './cart-totals.ts'
import { recommendations, setExclude } from './recommendations.ts'

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
    const totals = cartTotals(lines.map((l) => ({ qty: l.qty, price: l.product.price })))
    const buy = (): void => {
      for (const line of lines) app.learner.track({ type: 'purchase', itemId: line.product.id })
      placed = { number: orderNumber(), units: totals.units, total: totals.total }
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
        lines.map((line) => cartLine(app, line)),
      ),
      orderSummary(totals, buy),
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
