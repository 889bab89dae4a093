import type { App, View } from '../app.ts'
import { categorySlug } from '../catalogue.ts'
import { append, h, ICONS, icon, replaceChildren } from '../dom.ts'
import { plural } from '../format.ts'
import { href, type Route } from '../router.ts'
import { productCard } from './product-card.ts'
import { recommendations } from './recommendations.ts'

const PAGE_SIZE = 20

/** Home: hero, "Recommended for you", then the catalogue with category chips. */
export function homeView(route: Extract<Route, { type: 'home' }>, app: App, signal: AbortSignal): View {
  const { catalogue } = app
  const heading = h('h2', { id: 'catalogue-heading', tabindex: '-1' })
  const count = h('p', { class: 'muted', 'aria-live': 'polite' })
  const chips = h('ul', { class: 'chips', role: 'list' })
  const grid = h('ul', { class: 'grid', role: 'list' })
  const more = h('div', { class: 'more' })
  // "Everything" mixes the departments, as a shop floor would, instead of listing them one after another.
  const everything = interleave(catalogue.products, (p) => p.category)

  const hero = h(
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
              heading.scrollIntoView({ behavior: still ? 'auto' : 'smooth', block: 'start' })
              heading.focus({ preventScroll: true })
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

  const render = (category: string | null): string | null => {
    const selected =
      category === null ? null : (catalogue.categories.find((c) => categorySlug(c) === category) ?? null)
    if (category !== null && selected === null) return null
    const products = selected ? catalogue.products.filter((p) => p.category === selected) : everything
    heading.textContent = selected ?? 'Shop everything'
    count.textContent = plural(products.length, 'product')
    const chip = (label: string, slug: string | null, current: boolean) =>
      h(
        'li',
        null,
        h(
          'a',
          {
            class: 'chip',
            href: href({ type: 'home', category: slug }),
            'aria-current': current ? 'page' : undefined,
          },
          label,
        ),
      )
    replaceChildren(
      chips,
      chip('All', null, selected === null),
      catalogue.categories.map((c) => chip(c, categorySlug(c), c === selected)),
    )
    let shown = 0
    /** Adds the next page of cards and returns the link of the first new one. */
    const showMore = (): HTMLElement | null => {
      const start = shown
      const next = products.slice(shown, shown + PAGE_SIZE)
      append(
        grid,
        next.map((p) => h('li', null, productCard(p, app))),
      )
      shown += next.length
      const left = products.length - shown
      replaceChildren(
        more,
        left > 0 &&
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-ghost',
              // Keyboard users continue at the first new card (the button they pressed is replaced).
              onclick: () => showMore()?.focus(),
            },
            `Show more (${left} left)`,
          ),
        h('p', { class: 'muted small' }, `Showing ${shown} of ${products.length}`),
      )
      return grid.children[start]?.querySelector<HTMLElement>('.card-link') ?? null
    }
    grid.replaceChildren()
    showMore()
    return selected ? `${selected} — Bramble` : 'Bramble — a small general store'
  }

  const title = render(route.category)
  const el = h(
    'div',
    { class: 'page page-home' },
    hero,
    recommendations(app, signal, { heading: 'Recommended for you' }),
    h(
      'section',
      { class: 'catalogue', 'aria-labelledby': 'catalogue-heading' },
      h('div', { class: 'catalogue-head' }, heading, count),
      h('nav', { 'aria-label': 'Departments' }, chips),
      grid,
      more,
    ),
  )
  return {
    el,
    // An unknown category slug renders as "everything" rather than an empty page.
    title: title ?? render(null) ?? 'Bramble',
    update: (next) => (next.type === 'home' ? render(next.category) : null),
  }
}

/** Round-robin over groups in first-seen order: a1 b1 c1 a2 b2 c2 … */
export function interleave<T>(items: readonly T[], key: (item: T) => string): T[] {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const group = groups.get(k)
    if (group) group.push(item)
    else groups.set(k, [item])
  }
  const out: T[] = []
  const queues = [...groups.values()]
  for (let i = 0; out.length < items.length; i++) {
    for (const queue of queues) {
      const item = queue[i]
      if (item !== undefined) out.push(item)
    }
  }
  return out
}
