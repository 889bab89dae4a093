/** The cart page's order summary: subtotal, delivery, total and "Buy now". */
import { h } from '../dom.ts'
import { formatPrice, plural } from '../format.ts'
import { type CartTotals, FREE_DELIVERY_FROM } from './cart-totals.ts'

/** The summary `<aside>`; `buy` places the order. */
export function orderSummary({ subtotal, units, delivery, total }: CartTotals, buy: () => void): HTMLElement {
  return h(
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
    h('button', { type: 'button', class: 'btn btn-primary btn-large btn-block', onclick: buy }, 'Buy now'),
    h('p', { class: 'muted small' }, 'This is a demo shop: no payment is taken and nothing is shipped.'),
  )
}
