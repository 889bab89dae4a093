// The one contract between the storefront's main.ts and its pages: what a page is given and gives back.
import type { Cart } from './cart.ts'
import type { Catalogue } from './catalogue.ts'
import type { Learner } from './learner.ts'
import type { Route } from './router.ts'

/** What every page gets. */
export interface App {
  catalogue: Catalogue
  cart: Cart
  learner: Learner
  /** A short polite announcement ("Added to cart"), shown as a toast and read by screen readers. */
  announce(message: string): void
  /**
   * Provenance of the next product visit, e.g. 'recommendation' when a recommended card was followed; it goes
   * into the click event (on this device only), so the shop can later tell how often recommendations help.
   */
  takeVisitSource(): string | undefined
  setVisitSource(source: string): void
}

/** A rendered page. `signal` aborts when the shopper leaves it: listeners and late results stop there. */
export interface View {
  el: HTMLElement
  title: string
  /** Applies a route change in place (e.g. another category chip) and returns the new title, or null. */
  update?(route: Route): string | null
}

export type ViewFactory<R extends Route = Route> = (route: R, app: App, signal: AbortSignal) => View
