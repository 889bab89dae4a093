/** What the cart page shows with no lines: the empty cart, or the confirmation of the order just placed. */
import { h, ICONS, icon } from '../dom.ts'
import { formatPrice, plural } from '../format.ts'
import { href } from '../router.ts'

/** An order just placed, for its confirmation. */
export interface Order {
  number: string
  units: number
  total: number
}

export function emptyCart(): HTMLElement {
  return h(
    'div',
    { class: 'panel panel-empty' },
    h('p', { class: 'panel-title' }, 'Your cart is empty'),
    h('p', { class: 'muted' }, 'Find something you love — it will wait for you here.'),
    continueShopping(),
  )
}

export function confirmation(order: Order): HTMLElement {
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
    continueShopping(),
  )
}

const continueShopping = (): HTMLElement =>
  h('a', { class: 'btn btn-primary', href: href({ type: 'home', category: null }) }, 'Continue shopping')

/** A made-up six-digit order number. */
export const orderNumber = (): string => `#${String(Math.floor(100000 + Math.random() * 900000))}`
