// The storefront's entry point: starts the learner, the cart and the shell, then routes each hash change
// to its page.
import './style.css'
// Defines <fedrec-recommendations>; the views create it.
import '@fedrec/browser/element'
import type { App, View } from './app.ts'
import { createCart } from './cart.ts'
import { type Catalogue, loadCatalogue } from './catalogue.ts'
import { h } from './dom.ts'
import { createLearner } from './learner.ts'
import { exposeForQa } from './qa-hooks.ts'
import { parseRoute, type Route } from './router.ts'
import { parseSettings } from './settings.ts'
import { cartView } from './views/cart.ts'
import { homeView } from './views/home.ts'
import { createShell } from './views/layout.ts'
import { notFoundView } from './views/not-found.ts'
import { privacyView } from './views/privacy.ts'
import { productView } from './views/product.ts'
import { searchView } from './views/search.ts'

const { settings, warnings } = parseSettings(
  location.search,
  import.meta.env,
  new URL(import.meta.env.BASE_URL, location.href).toString(),
)
for (const warning of warnings) console.warn(`[storefront] ${warning}`)

const storage = safeLocalStorage()
// Started first, before the catalogue arrives: the worker and the model download overlap the page load.
const learner = createLearner(settings, { storage })
exposeForQa(learner)

const cart = createCart(storage)
const root = document.getElementById('app')
if (!root) throw new Error('index.html has no #app element')
const shell = createShell(root, cart, learner)

loadCatalogue(settings.catalogueUrl).then(start, (err: unknown) => {
  console.error('[storefront] could not load the catalogue:', err)
  shell.main.replaceChildren(
    h(
      'div',
      { class: 'page page-message' },
      h('h1', null, 'The shop is taking a break'),
      h('p', null, 'We could not load the catalogue. Please try again in a moment.'),
      h(
        'button',
        { type: 'button', class: 'btn btn-primary', onclick: () => location.reload() },
        'Try again',
      ),
    ),
  )
})

function start(catalogue: Catalogue): void {
  let visitSource: string | undefined
  const app: App = {
    catalogue,
    cart,
    learner,
    announce: shell.announce,
    setVisitSource: (source) => {
      visitSource = source
    },
    takeVisitSource: () => {
      const source = visitSource
      visitSource = undefined
      return source
    },
  }

  let current: { route: Route; view: View; controller: AbortController } | null = null

  const show = (): void => {
    const route = parseRoute(location.hash)
    // Another category chip on the home page: update the grid in place, keep the rest (and the scroll).
    const title = current?.view.update?.(route)
    if (current && title) {
      current.route = route
      document.title = title
      return
    }
    const first = current === null
    current?.controller.abort()
    const controller = new AbortController()
    const view = render(route, app, controller.signal)
    current = { route, view, controller }
    shell.main.replaceChildren(view.el)
    shell.setCurrent(
      route.type === 'home' || route.type === 'cart' || route.type === 'privacy' ? route.type : null,
    )
    document.title = view.title
    if (!first) {
      // A new page: start at its top and tell assistive tech where we are.
      window.scrollTo(0, 0)
      view.el.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true })
    }
  }

  window.addEventListener('hashchange', show)
  show()
}

function render(route: Route, app: App, signal: AbortSignal): View {
  switch (route.type) {
    case 'home':
      return homeView(route, app, signal)
    case 'product':
      return productView(route, app, signal)
    case 'cart':
      return cartView(app, signal)
    case 'privacy':
      return privacyView(app, signal)
    case 'search':
      return searchView(route, app, signal)
    case 'not-found':
      return notFoundView(app)
    default: {
      const unreachable: never = route
      return unreachable
    }
  }
}

function safeLocalStorage(): Storage | null {
  try {
    return window.localStorage
  } catch {
    // Blocked by the browser's privacy settings: cart and settings live in memory for this visit.
    return null
  }
}
