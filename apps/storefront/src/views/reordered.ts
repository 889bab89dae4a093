// A list the shop already has, shown in the shop's order at once and then in the shopper's, kept up to date.
import type { RerankOptions } from '@fedrec/browser'
import type { App } from '../app.ts'
import { h, keepFocus } from '../dom.ts'
import { type ListOrder, listOrder } from './order-note.ts'
import { productCard } from './product-card.ts'

/**
 * Calls `show` with the shop's own order straight away ('pending'), then with the order `rerank()` answers,
 * and again after every sync or pause switch (the order follows the model and the shopper's choice). A late
 * answer for a page already left, or overtaken by a newer one, is dropped.
 * @example keepReordered(app, signal, hits.map((p) => p.id), { context: 'search' }, (ids, order) => draw(ids, order))
 */
export function keepReordered(
  app: App,
  signal: AbortSignal,
  itemIds: readonly string[],
  options: RerankOptions,
  show: (ids: readonly string[], order: ListOrder) => void,
): void {
  const shopOrder = itemIds.slice(0, options.k)
  let latest = 0
  const reorder = async (): Promise<void> => {
    const mine = ++latest
    const result = itemIds.length === 0 ? null : await app.learner.rerank(itemIds, options)
    if (signal.aborted || mine !== latest) return
    const order = itemIds.length === 0 ? 'none' : listOrder(result, app.learner.status().paused)
    show(result ? result.items.map((item) => item.itemId) : shopOrder, order)
  }
  show(shopOrder, 'pending')
  void reorder()
  let paused = app.learner.status().paused
  app.learner.subscribe((change) => {
    const nowPaused = app.learner.status().paused
    if (change !== 'recommendations' && nowPaused === paused) return
    paused = nowPaused
    void reorder()
  }, signal)
}

/**
 * Fills `grid` with the cards of `ids` (ids the catalogue lacks are skipped), a click on one recorded with
 * `source`. Focus on a card's link or button stays on the same product's when the order changes under it.
 * @example showCards(app, grid, ['sku-kitchen-001'], 'search')
 */
export function showCards(app: App, grid: HTMLElement, ids: readonly string[], source: string): void {
  keepFocus(grid, () =>
    grid.replaceChildren(
      ...ids.flatMap((id) => {
        const product = app.catalogue.byId(id)
        if (!product) return []
        const card = productCard(product, app, { source })
        for (const [i, control] of card.querySelectorAll<HTMLElement>('a, button').entries())
          control.dataset.focusKey = `${id}:${i}`
        return [h('li', null, card)]
      }),
    ),
  )
}
