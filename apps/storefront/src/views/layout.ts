import type { Cart } from '../cart.ts'
import { h, ICONS, icon } from '../dom.ts'
import { plural } from '../format.ts'
import type { Learner, LearnerStatus } from '../learner.ts'
import { href } from '../router.ts'
import { dotClass } from './privacy-status.ts'

/** The parts of the page that outlive a route: header, main, footer and the toast region. */
export interface Shell {
  main: HTMLElement
  announce(message: string): void
  /** Marks the nav link of the current page. */
  setCurrent(page: 'home' | 'cart' | 'privacy' | null): void
}

const LOGO =
  'M12 21c-4.5-2.2-7-6-7-10.2C5 7 8 4 12 3c4 1 7 4 7 7.8 0 4.2-2.5 8-7 10.2zM12 21V9M12 13l-3.2-3M12 16l3.5-3.5'

/** Builds the shell into `root` and keeps the cart badge and the learning status line up to date. */
export function createShell(root: HTMLElement, cart: Cart, learner: Learner): Shell {
  const badge = h('span', { class: 'badge', 'aria-hidden': 'true' })
  const cartLink = h(
    'a',
    { class: 'nav-link cart-link', href: href({ type: 'cart' }) },
    icon(ICONS.cart, 22),
    h('span', { class: 'cart-label' }, 'Cart'),
    badge,
  )
  const shopLink = h(
    'a',
    { class: 'nav-link nav-shop', href: href({ type: 'home', category: null }) },
    'Shop',
  )
  const dataLink = h('a', { class: 'nav-link', href: href({ type: 'privacy' }) }, 'Your data')
  const updateCart = (): void => {
    const n = cart.count()
    badge.textContent = String(n)
    badge.hidden = n === 0
    cartLink.setAttribute('aria-label', `Cart, ${plural(n, 'item')}`)
  }
  cart.subscribe(updateCart)
  updateCart()

  const statusDot = h('span', { class: 'dot', 'aria-hidden': 'true' })
  const statusText = h('span')
  const statusLine = h('p', { class: 'sync-status', role: 'status' }, statusDot, statusText)
  const updateStatus = (): void => {
    const s = learner.status()
    statusDot.className = `dot ${dotClass(s)}`
    statusText.textContent = statusLineText(s)
  }
  learner.subscribe(updateStatus)
  updateStatus()

  const main = h('main', { id: 'main', class: 'container', tabindex: '-1' })
  const toast = h('div', { class: 'toast', role: 'status', 'aria-live': 'polite' })
  let toastTimer: ReturnType<typeof setTimeout> | undefined

  root.replaceChildren(
    h('a', { class: 'skip-link', href: '#main', onclick: skipToMain }, 'Skip to content'),
    h(
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
        h('nav', { class: 'site-nav', 'aria-label': 'Main' }, shopLink, dataLink, cartLink),
      ),
    ),
    main,
    h(
      'footer',
      { class: 'site-footer' },
      h(
        'div',
        { class: 'container footer-inner' },
        h(
          'div',
          null,
          h('p', { class: 'footer-brand' }, 'Bramble'),
          h(
            'p',
            { class: 'muted small' },
            'A demo shop for fedrec: recommendations learned in your browser with federated learning.',
          ),
        ),
        h(
          'div',
          { class: 'footer-status' },
          statusLine,
          h('a', { class: 'small', href: href({ type: 'privacy' }) }, 'Your data & privacy'),
        ),
      ),
    ),
    toast,
  )

  return {
    main,
    announce(message) {
      clearTimeout(toastTimer)
      toast.textContent = message
      toast.classList.add('show')
      toastTimer = setTimeout(() => toast.classList.remove('show'), 2800)
    },
    setCurrent(page) {
      const links = { home: shopLink, privacy: dataLink, cart: cartLink }
      for (const [name, link] of Object.entries(links)) {
        if (name === page) link.setAttribute('aria-current', 'page')
        else link.removeAttribute('aria-current')
      }
    },
  }
}

// With hash routing, following href="#main" would be read as a route: move focus by hand instead.
function skipToMain(event: Event): void {
  event.preventDefault()
  document.getElementById('main')?.focus()
}

/** The footer's one-line account of learning: the last round, or why there is none. */
export function statusLineText(s: LearnerStatus): string {
  if (s.phase === 'starting') return 'Starting on-device learning…'
  if (s.phase === 'unavailable') return s.problem ?? 'Personal recommendations are unavailable'
  if (s.paused) return 'Learning paused by you'
  if (s.problem) return s.problem
  const syncing = s.syncing ? ' · syncing…' : ''
  if (!s.lastReport) return `Learning on this device · no round yet${syncing}`
  const r = s.lastReport
  return `Last sync: round ${r.round} · model v${r.modelVersion} · ${r.backend}${syncing}`
}
