/** The home page's catalogue: department chips, a grid of product cards and "Show more". */
import type { App } from '../app.ts'
import { categorySlug, type Product } from '../catalogue.ts'
import { append, h, replaceChildren } from '../dom.ts'
import { plural } from '../format.ts'
import { href } from '../router.ts'
import { interleave } from './interleave.ts'
import { productCard } from './product-card.ts'

const PAGE_SIZE = 20

/** The catalogue's parts, and `render(category)`, which shows one department (or all) and returns the page title. */
export interface CatalogueSection {
  /** The section's heading (the hero's "Shop the catalogue" moves focus to it). */
  heading: HTMLElement
  el: HTMLElement
  /** Shows the department with this slug, or everything for null; null for an unknown slug. */
  render(category: string | null): string | null
}

export function catalogueSection(app: App): CatalogueSection {
  const { catalogue } = app
  const heading = h('h2', { id: 'catalogue-heading', tabindex: '-1' })
  const count = h('p', { class: 'muted', 'aria-live': 'polite' })
  const chips = h('ul', { class: 'chips', role: 'list' })
  const grid = h('ul', { class: 'grid', role: 'list' })
  const more = h('div', { class: 'more' })
  // "Everything" mixes the departments, as a shop floor would, instead of listing them one after another.
  const everything = interleave(catalogue.products, (p) => p.category)

  const render = (category: string | null): string | null => {
    const selected =
      category === null ? null : (catalogue.categories.find((c) => categorySlug(c) === category) ?? null)
    if (category !== null && selected === null) return null
    const products = selected ? catalogue.products.filter((p) => p.category === selected) : everything
    heading.textContent = selected ?? 'Shop everything'
    count.textContent = plural(products.length, 'product')
    replaceChildren(
      chips,
      chip('All', null, selected === null),
      catalogue.categories.map((c) => chip(c, categorySlug(c), c === selected)),
    )
    grid.replaceChildren()
    showPages(app, products, grid, more)
    return selected ? `${selected} — Bramble` : 'Bramble — a small general store'
  }

  const el = h(
    'section',
    { class: 'catalogue', 'aria-labelledby': 'catalogue-heading' },
    h('div', { class: 'catalogue-head' }, heading, count),
    h('nav', { 'aria-label': 'Departments' }, chips),
    grid,
    more,
  )
  return { heading, el, render }
}

function chip(label: string, slug: string | null, current: boolean): HTMLElement {
  return h(
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
}

/** Shows the first page of `products` in `grid`, with a "Show more" button in `more` for the next ones. */
function showPages(app: App, products: readonly Product[], grid: HTMLElement, more: HTMLElement): void {
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
  showMore()
}
