/** The home page: hero (home-hero.ts), "Recommended for you", featured picks (promotions.ts), then the catalogue (home-catalogue.ts). */
import type { App, View } from '../app.ts'
import { h } from '../dom.ts'
import type { Route } from '../router.ts'
import { catalogueSection } from './home-catalogue.ts'
import { hero } from './home-hero.ts'
import { promotions } from './promotions.ts'
import { recommendations } from './recommendations.ts'

/** Home: hero, "Recommended for you", featured picks, then the catalogue with category chips. */
export function homeView(route: Extract<Route, { type: 'home' }>, app: App, signal: AbortSignal): View {
  const catalogue = catalogueSection(app)
  const top = hero(catalogue.heading)
  const title = catalogue.render(route.category)
  const el = h(
    'div',
    { class: 'page page-home' },
    top,
    recommendations(app, signal, { heading: 'Recommended for you' }),
    promotions(app, signal),
    catalogue.el,
  )
  return {
    el,
    // An unknown category slug renders as "everything" rather than an empty page.
    title: title ?? catalogue.render(null) ?? 'Bramble',
    update: (next) => (next.type === 'home' ? catalogue.render(next.category) : null),
  }
}
