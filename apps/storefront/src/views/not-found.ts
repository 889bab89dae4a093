// The storefront's page for a link that leads nowhere.
import type { App, View } from '../app.ts'
import { h } from '../dom.ts'
import { href } from '../router.ts'

/** For unknown routes and unknown products. */
export function notFoundView(_app: App, message = "That page doesn't exist."): View {
  const el = h(
    'div',
    { class: 'page page-message' },
    h('h1', { tabindex: '-1' }, 'Nothing here'),
    h('p', null, message),
    h('a', { class: 'btn btn-primary', href: href({ type: 'home', category: null }) }, 'Back to the shop'),
  )
  return { el, title: 'Not found — Bramble' }
}
