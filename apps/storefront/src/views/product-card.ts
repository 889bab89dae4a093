// The shop's product card, shared by the grids, the rows and the recommendation widget, and its add-to-cart
// action.
import type { App } from '../app.ts'
import type { Product } from '../catalogue.ts'
import { h, ICONS, icon } from '../dom.ts'
import { formatPrice } from '../format.ts'
import { productImage } from '../placeholder.ts'
import { href } from '../router.ts'

export interface ProductCardOptions {
  /** Recorded with the click if the shopper follows this card (e.g. 'recommendation'). */
  source?: string
  /** Heading level of the product name inside the card. */
  headingLevel?: 'h2' | 'h3'
}

/**
 * A product card: the picture and name link to the product page; the button adds it to the cart.
 * The button sits outside the link because interactive elements must not nest.
 */
/** The one add-to-cart action of the shop: cart, the recommender's event, and a spoken confirmation. */
export function addToCart(app: App, product: Product): void {
  app.cart.add(product.id)
  app.learner.track({ type: 'add_to_cart', itemId: product.id })
  app.announce(`Added ${product.name} to your cart`)
}

export function productCard(
  product: Product,
  app: App,
  { source, headingLevel = 'h3' }: ProductCardOptions = {},
) {
  const link = h(
    'a',
    {
      class: 'card-link',
      href: href({ type: 'product', id: product.id }),
      onclick: () => {
        if (source) app.setVisitSource(source)
      },
    },
    // The name follows as text inside the same link, so the picture is decorative here (alt="").
    h('img', {
      class: 'card-img',
      src: productImage(product),
      alt: '',
      width: 400,
      height: 300,
      decoding: 'async',
    }),
    h('span', { class: 'card-category' }, product.category),
    h(headingLevel, { class: 'card-title' }, product.name),
  )
  const add = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-ghost btn-small',
      'aria-label': `Add ${product.name} to cart`,
      onclick: () => addToCart(app, product),
    },
    icon(ICONS.cart, 16),
    'Add',
  )
  return h(
    'article',
    { class: 'card', 'data-product-id': product.id },
    link,
    h('div', { class: 'card-foot' }, h('span', { class: 'price' }, formatPrice(product.price)), add),
  )
}
