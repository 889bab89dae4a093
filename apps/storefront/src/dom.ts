// The storefront's small DOM toolkit (it has no framework): building elements, icons, focus kept on redraw.

/** Attributes for `h()`: `on*` functions become listeners, `true` sets a bare attribute, nullish/false skip. */
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>
type Child = Node | string | number | null | undefined | false

/**
 * A tiny element builder. Text is always set as text (never parsed as HTML), so product names and ids from
 * the catalogue cannot inject markup.
 * @example h('a', { href: '#/cart', class: 'link' }, 'Cart')
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value)
    else if (value === true) el.setAttribute(name, '')
    else el.setAttribute(name, String(value))
  }
  append(el, children)
  return el
}

/** Appends children, skipping null/false (for `cond && node`). */
export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)))
  }
}

/** Replaces all children of `parent`. */
export function replaceChildren(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren()
  append(parent, children)
}

/** Inline SVG icon from 24×24 stroke paths (decorative: hidden from assistive tech). */
export function icon(path: string, size = 20): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg'
  const svg = document.createElementNS(ns, 'svg')
  svg.setAttribute('viewBox', '0 0 24 24')
  svg.setAttribute('width', String(size))
  svg.setAttribute('height', String(size))
  svg.setAttribute('aria-hidden', 'true')
  svg.setAttribute('focusable', 'false')
  svg.setAttribute('class', 'icon')
  const p = document.createElementNS(ns, 'path')
  p.setAttribute('d', path)
  svg.appendChild(p)
  return svg
}

export const ICONS = {
  cart: 'M3 4h2l2.4 11.2a1 1 0 0 0 1 .8h9.2a1 1 0 0 0 1-.8L20 8H6.2M9 20.5a1 1 0 1 0 0-.1M17 20.5a1 1 0 1 0 0-.1',
  shield: 'M12 3 5 6v5c0 4.5 3 8.4 7 10 4-1.6 7-5.5 7-10V6z M9 12l2 2 4-4',
  truck: 'M3 6h11v9H3zM14 9h4l3 3v3h-7M7 18.5a1.5 1.5 0 1 0 0-.1M17 18.5a1.5 1.5 0 1 0 0-.1',
  returns: 'M4 9h11a5 5 0 0 1 0 10H9M4 9l4-4M4 9l4 4',
  trash: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13',
  check: 'M5 12.5 10 17l9-10',
  minus: 'M5 12h14',
  plus: 'M12 5v14M5 12h14',
}

/**
 * Runs `redraw` (which replaces elements inside `container`) and, if focus was on an element with a
 * `data-focus-key`, moves it to the new element with the same key, else to `fallback`.
 */
export function keepFocus(container: Element, redraw: () => void, fallback?: () => HTMLElement | null): void {
  const active = document.activeElement
  const key =
    active instanceof HTMLElement && container.contains(active) ? active.dataset.focusKey : undefined
  redraw()
  if (key === undefined) return
  const same = container.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(key)}"]`)
  ;(same ?? fallback?.())?.focus()
}
