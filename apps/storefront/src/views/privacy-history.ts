/** The "Your data" page's activity table: the events stored in this browser, newest first. */
import type { StoredEvent } from '@fedrec/browser'
import type { App } from '../app.ts'
import { h, replaceChildren } from '../dom.ts'
import { plural } from '../format.ts'
import { href } from '../router.ts'

const ACTION: Record<StoredEvent['type'], string> = {
  click: 'Viewed',
  add_to_cart: 'Added to cart',
  purchase: 'Bought',
}

const HISTORY_SHOWN = 50

/** The history box and a `render()` that reads the history again (a late answer never overwrites a newer one). */
export function historyList(app: App, signal: AbortSignal): { el: HTMLElement; render: () => Promise<void> } {
  const historyBox = h('div', { class: 'history' })
  let latest = 0
  const render = async (): Promise<void> => {
    const mine = ++latest
    let events: StoredEvent[]
    try {
      events = await app.learner.history()
    } catch (err) {
      console.warn('[storefront] could not read the history:', err)
      events = []
    }
    if (signal.aborted || mine !== latest) return
    if (events.length === 0) {
      replaceChildren(
        historyBox,
        h(
          'p',
          { class: 'muted' },
          'Nothing yet. Browse the shop and your activity will show here — and only here.',
        ),
      )
      return
    }
    replaceChildren(
      historyBox,
      h(
        'p',
        { class: 'muted' },
        `${plural(events.length, 'event')} stored in this browser${events.length > HISTORY_SHOWN ? `; the latest ${HISTORY_SHOWN} below` : ''}.`,
      ),
      historyTable(app, events.slice(-HISTORY_SHOWN).reverse()),
    )
  }
  return { el: historyBox, render }
}

function historyTable(app: App, recent: readonly StoredEvent[]): HTMLElement {
  return h(
    'table',
    null,
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, 'When'),
        h('th', { scope: 'col' }, 'What'),
        h('th', { scope: 'col' }, 'Product'),
      ),
    ),
    h(
      'tbody',
      null,
      recent.map((e) => {
        const product = app.catalogue.byId(e.itemId)
        return h(
          'tr',
          null,
          h('td', null, h('time', { datetime: new Date(e.ts).toISOString() }, formatTime(e.ts))),
          h('td', null, ACTION[e.type]),
          h(
            'td',
            null,
            product ? h('a', { href: href({ type: 'product', id: product.id }) }, product.name) : e.itemId,
          ),
        )
      }),
    ),
  )
}

const timeFormat = new Intl.DateTimeFormat('en-US', {
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
})
const formatTime = (ts: number): string => timeFormat.format(ts)
