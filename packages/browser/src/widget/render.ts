/** The widget's shadow-DOM pieces: the element helper, the skeleton, the empty message, the badge line and the item list. */
import type { Suggestion } from '../suggest.ts'
import type { PrivacyPanel } from './privacy-panel.ts'
import { BADGES, reasonFor, TEXT, whyLabel } from './strings.ts'
import { WIDGET_CSS } from './styles.ts'
import type { ShownItem, WidgetState } from './types.ts'

/**
 * A new element with attributes and children.
 * @example el('p', { part: 'why' }, document.createTextNode('…'))
 */
export function el(tag: string, attrs: Record<string, string>, ...children: Node[]): HTMLElement {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value)
  node.append(...children)
  return node
}

/** The shadow DOM's parts the element updates. */
export interface ShellParts {
  section: HTMLElement
  heading: HTMLElement
  label: HTMLElement
  body: HTMLElement
  /** The polite live region (visually hidden). */
  live: HTMLElement
}

/**
 * Fills the shadow root: the style, then a section with a header (heading, label, the privacy button), the
 * privacy panel, the body and the live region. Ids start with `uid` (one per widget on the page).
 */
export function renderShell(root: ShadowRoot, uid: string, privacy: PrivacyPanel): ShellParts {
  const style = document.createElement('style')
  style.textContent = WIDGET_CSS
  const section = el('section', {
    part: 'container',
    'aria-labelledby': `${uid}-h`,
    'aria-busy': 'true',
  })
  const heading = el('h2', { part: 'heading', id: `${uid}-h` })
  const label = el('p', { part: 'label' })
  const body = el('div', { part: 'body' })
  const live = el('p', { class: 'sr-only', role: 'status' })
  section.append(
    el('header', { part: 'header' }, el('div', {}, heading, label), privacy.button),
    privacy.panel,
    body,
    live,
  )
  root.append(style, section)
  return { section, heading, label, body, live }
}

/** Grey placeholder cards while loading (at most five: enough to fill the row). */
export function skeletonList(count: number): HTMLElement {
  const list = el('ul', { part: 'list skeleton-list', 'aria-hidden': 'true' })
  for (let i = 0; i < Math.min(count, 5); i++)
    list.append(el('li', { part: 'item' }, el('div', { part: 'skeleton' })))
  return list
}

/** What the body says when there is nothing honest to show. */
export function emptyMessage(): HTMLElement {
  const empty = el('p', { part: 'empty' })
  empty.textContent = TEXT.empty
  return empty
}

/** Fills the line under the heading: the badge and note of a state with items, or the empty state's note. */
export function fillLabel(label: HTMLElement, state: WidgetState, hasItems: boolean): void {
  label.replaceChildren()
  if (!hasItems) {
    label.textContent = TEXT.emptyLabel
    return
  }
  const badge = el('span', { part: 'badge' })
  const [badgeText, note] = BADGES[state as keyof typeof BADGES]
  badge.textContent = badgeText
  label.append(badge, note)
}

/** What the item list needs from the element. */
export interface ItemListOptions {
  /** The element: each card goes into its light DOM, slotted into the list. */
  host: HTMLElement
  /** The element's id prefix, for the ids the "why this?" buttons point at. */
  uid: string
  state: WidgetState
  /** The list's accessible name (the heading). */
  heading: string
  label: (itemId: string) => string
}

/**
 * Replaces the slotted cards with `cards` (null ones are skipped) and builds the shadow list that slots
 * them in, each with a "why this?" button; returns the list and the items actually shown.
 */
export function renderItems(
  items: readonly Suggestion[],
  cards: readonly (Node | null)[],
  { host, uid, state, heading, label }: ItemListOptions,
): { list: HTMLElement; shown: ShownItem[] } {
  // Slotted cards are light-DOM children: the shop's own CSS styles them.
  for (const old of host.querySelectorAll(':scope > [data-fedrec-item]')) old.remove()
  const shown: ShownItem[] = []
  const list = el('ul', { part: 'list', 'aria-label': heading })
  items.forEach((item, i) => {
    const card = cards[i]
    if (!card) return
    const position = shown.length
    const slotName = `item-${position}`
    const wrap = document.createElement('div')
    wrap.setAttribute('slot', slotName)
    wrap.dataset.fedrecItem = item.itemId
    wrap.dataset.fedrecPosition = String(position)
    wrap.append(card)
    host.append(wrap)
    shown.push({ itemId: item.itemId, position })
    const reason = reasonFor(state, item.because ? label(item.because.itemId) : null)
    list.append(
      el(
        'li',
        { part: 'item', 'data-item-id': item.itemId },
        el('slot', { name: slotName }),
        ...whyThis(`${uid}-why-${position}`, reason, label(item.itemId)),
      ),
    )
  })
  return { list, shown }
}

/** A "why this?" button and the reason it shows and hides. */
function whyThis(whyId: string, reason: string, itemLabel: string): [HTMLElement, HTMLElement] {
  const why = el('p', { part: 'why', id: whyId })
  why.hidden = true
  why.textContent = reason
  const whyButton = el('button', {
    type: 'button',
    part: 'button why-button',
    'aria-expanded': 'false',
    'aria-controls': whyId,
    'aria-label': whyLabel(itemLabel),
  })
  whyButton.textContent = TEXT.whyButton
  whyButton.addEventListener('click', () => {
    why.hidden = !why.hidden
    whyButton.setAttribute('aria-expanded', String(!why.hidden))
  })
  return [whyButton, why]
}
