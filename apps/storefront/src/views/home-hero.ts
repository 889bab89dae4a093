/** The home page's hero: the shop's pitch, "Shop the catalogue", and how the recommendations work. */
import { h, ICONS, icon } from '../dom.ts'
import { href } from '../router.ts'

/** The hero section; "Shop the catalogue" scrolls to and focuses `catalogueHeading`. */
export function hero(catalogueHeading: HTMLElement): HTMLElement {
  return h(
    'section',
    { class: 'hero', 'aria-labelledby': 'hero-title' },
    h(
      'div',
      { class: 'hero-copy' },
      h('p', { class: 'eyebrow' }, 'Independent general store'),
      h(
        'h1',
        { id: 'hero-title', tabindex: '-1' },
        'Good things for the kitchen, the garden and the weekend',
      ),
      h(
        'p',
        { class: 'hero-lead' },
        '240 well-made things across eight departments, with free delivery on orders over $50.',
      ),
      h(
        'div',
        { class: 'hero-actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-primary',
            onclick: () => {
              const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches
              catalogueHeading.scrollIntoView({ behavior: still ? 'auto' : 'smooth', block: 'start' })
              catalogueHeading.focus({ preventScroll: true })
            },
          },
          'Shop the catalogue',
        ),
        h('a', { class: 'btn btn-ghost', href: href({ type: 'privacy' }) }, 'How recommendations work'),
      ),
    ),
    h(
      'aside',
      { class: 'hero-card', 'aria-label': 'How our recommendations work' },
      icon(ICONS.shield, 28),
      h('p', { class: 'hero-card-title' }, 'Recommendations learned on your device'),
      h(
        'ol',
        { class: 'hero-steps' },
        h('li', null, 'You browse and shop as usual.'),
        h('li', null, 'Your browser learns what you like, on this device.'),
        h(
          'li',
          null,
          'Your history stays here; only model updates are shared, and they show which products you interacted with.',
        ),
      ),
    ),
  )
}
