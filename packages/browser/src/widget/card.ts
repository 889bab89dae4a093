/** One item's card: the shop's `renderItem`, else the element's `<template>` with `{id}` filled in, else a plain link. */
import type { Suggestion, SuggestionKind } from '../suggest.ts'
import type { RenderItem, Warn, WidgetItem } from './types.ts'

/** What a card needs from the element. */
export interface CardOptions {
  /** The element, whose `<template>` child (if any) is the card's pattern. */
  host: Element
  /** `item-url` with its `{id}` placeholder, or null. */
  itemUrl: string | null
  renderItem: RenderItem | null
  label: (itemId: string) => string
  warn: Warn
}

/**
 * The card for one item, or null when the shop's renderer skips it (or throws: warned, then skipped).
 * @example await renderCard(item, 0, 'personal', false, { host, itemUrl: '/p/{id}', renderItem: null, label, warn })
 */
export async function renderCard(
  item: Suggestion,
  position: number,
  kind: SuggestionKind,
  degraded: boolean,
  { host, itemUrl, renderItem, label, warn }: CardOptions,
): Promise<Node | null> {
  const url = itemUrl ? fillId(itemUrl, item.itemId, true) : null
  const widgetItem: WidgetItem = {
    itemId: item.itemId,
    position,
    kind: degraded ? 'degraded' : kind,
    because: item.because,
    url,
  }
  try {
    if (renderItem) return await renderItem(widgetItem)
  } catch (err) {
    warn('render', 'renderItem threw; the item is skipped', err)
    return null
  }
  const tpl = host.querySelector(':scope > template')
  if (tpl instanceof HTMLTemplateElement) {
    const node = tpl.content.cloneNode(true)
    fillNode(node, item.itemId)
    return node
  }
  const a = document.createElement(url ? 'a' : 'span')
  if (url) a.setAttribute('href', url)
  a.textContent = label(item.itemId)
  return a
}

/**
 * `{id}` in a template, URL-encoded where it goes into a URL.
 * @example fillId('/p/{id}', 'a b', true) // '/p/a%20b'
 */
export function fillId(text: string, itemId: string, url: boolean): string {
  return text.replaceAll('{id}', url ? encodeURIComponent(itemId) : itemId)
}

function fillNode(node: Node, itemId: string): void {
  const walker = document.createTreeWalker(node, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT)
  for (let n: Node | null = walker.currentNode; n; n = walker.nextNode()) {
    if (n.nodeType === Node.TEXT_NODE && n.textContent?.includes('{id}'))
      n.textContent = fillId(n.textContent, itemId, false)
    if (n instanceof Element) {
      for (const attr of n.attributes) {
        if (attr.value.includes('{id}'))
          attr.value = fillId(attr.value, itemId, ['href', 'src', 'srcset', 'action'].includes(attr.name))
      }
    }
  }
}
