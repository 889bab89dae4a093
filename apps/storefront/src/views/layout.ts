/** The page shell: header (layout-header.ts), main, footer (layout-footer.ts) and the toast region. */
import type { Cart } from '../cart.ts'
import { h } from '../dom.ts'
import type { Learner } from '../learner.ts'
import { siteFooter } from './layout-footer.ts'
import { siteHeader } from './layout-header.ts'

/** The parts of the page that outlive a route: header, main, footer and the toast region. */
export interface Shell {
  main: HTMLElement
  announce(message: string): void
  /** Marks the nav link of the current page. */
  setCurrent(page: 'home' | 'cart' | 'privacy' | null): void
}

/** Builds the shell into `root` and keeps the cart badge and the learning status line up to date. */
export function createShell(root: HTMLElement, cart: Cart, learner: Learner): Shell {
  const header = siteHeader(cart)
  const footer = siteFooter(learner)
  const main = h('main', { id: 'main', class: 'container', tabindex: '-1' })
  const toast = h('div', { class: 'toast', role: 'status', 'aria-live': 'polite' })
  let toastTimer: ReturnType<typeof setTimeout> | undefined

  root.replaceChildren(
    h('a', { class: 'skip-link', href: '#main', onclick: skipToMain }, 'Skip to content'),
    header.el,
    main,
    footer,
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
      for (const [name, link] of Object.entries(header.links)) {
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
