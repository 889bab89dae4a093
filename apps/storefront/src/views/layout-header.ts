/** The site header: logo, the shop's search box and the main navigation, with the cart link's live item count. */
import type { Cart } from '../cart.ts'
import { h, ICONS, icon } from '../dom.ts'
import { plural } from '../format.ts'
import { href, parseRoute } from '../router.ts'
import { MAX_QUERY_LENGTH } from './search-match.ts'

const LOGO =
  'M12 21c-4.5-2.2-7-6-7-10.2C5 7 8 4 12 3c4 1 7 4 7 7.8 0 4.2-2.5 8-7 10.2zM12 21V9M12 13l-3.2-3M12 16l3.5-3.5'

/** The header and its nav links (the shell marks the current one). */
export interface SiteHeader {
  el: HTMLElement
  links: { home: HTMLElement; privacy: HTMLElement; cart: HTMLElement }
}

/** Builds the header; the cart link's badge and label follow `cart` from then on. */
export function siteHeader(cart: Cart): SiteHeader {
  const cartLink = cartNavLink(cart)
  const shopLink = h(
    'a',
    { class: 'nav-link nav-shop', href: href({ type: 'home', category: null }) },
    'Shop',
  )
  const dataLink = h('a', { class: 'nav-link', href: href({ type: 'privacy' }) }, 'Your data')
  const el = h(
    'header',
    { class: 'site-header' },
    h(
      'div',
      { class: 'container header-inner' },
      h(
        'a',
        { class: 'logo', href: href({ type: 'home', category: null }), 'aria-label': 'Bramble, home' },
        h('span', { class: 'logo-mark' }, icon(LOGO, 22)),
        h('span', { class: 'logo-word' }, 'Bramble'),
        h('span', { class: 'logo-tag' }, 'general store'),
      ),
      searchForm(),
      h('nav', { class: 'site-nav', 'aria-label': 'Main' }, shopLink, dataLink, cartLink),
    ),
  )
  return { el, links: { home: shopLink, privacy: dataLink, cart: cartLink } }
}

/** The search box: submitting goes to the search page; on that page it shows the query, elsewhere it is empty. */
function searchForm(): HTMLElement {
  const input = h('input', {
    id: 'site-search',
    class: 'search-input',
    type: 'search',
    name: 'q',
    placeholder: 'Search the shop',
    autocomplete: 'off',
    maxlength: MAX_QUERY_LENGTH,
    enterkeyhint: 'search',
  })
  const follow = (): void => {
    const route = parseRoute(location.hash)
    input.value = route.type === 'search' ? route.query : ''
  }
  window.addEventListener('hashchange', follow)
  follow()
  return h(
    'form',
    {
      class: 'search-form',
      role: 'search',
      onsubmit: (event: Event) => {
        event.preventDefault()
        location.hash = href({ type: 'search', query: input.value.trim() })
      },
    },
    h('label', { class: 'visually-hidden', for: 'site-search' }, 'Search the shop'),
    input,
    h('button', { type: 'submit', class: 'btn btn-primary btn-small search-button' }, 'Search'),
  )
}

function cartNavLink(cart: Cart): HTMLElement {
  const badge = h('span', { class: 'badge', 'aria-hidden': 'true' })
  const cartLink = h(
    'a',
    { class: 'nav-link cart-link', href: href({ type: 'cart' }) },
    icon(ICONS.cart, 22),
    h('span', { class: 'cart-label' }, 'Cart'),
    badge,
  )
  const updateCart = (): void => {
    const n = cart.count()
    badge.textContent = String(n)
    badge.hidden = n === 0
    cartLink.setAttribute('aria-label', `Cart, ${plural(n, 'item')}`)
  }
  cart.subscribe(updateCart)
  updateCart()
  return cartLink
}
