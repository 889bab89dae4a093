import type { StoredEvent } from '@fedrec/browser'
import type { App, View } from '../app.ts'
import { h, ICONS, icon, keepFocus, replaceChildren } from '../dom.ts'
import { plural } from '../format.ts'
import type { LearnerStatus } from '../learner.ts'
import { href } from '../router.ts'

const ACTION: Record<StoredEvent['type'], string> = {
  click: 'Viewed',
  add_to_cart: 'Added to cart',
  purchase: 'Bought',
}

const HISTORY_SHOWN = 50

/** "Your data": what is kept on this device, what leaves it, and the switches to pause or erase it. */
export function privacyView(app: App, signal: AbortSignal): View {
  const statusBox = h('div', { class: 'panel status-panel' })
  const historyBox = h('div', { class: 'history' })

  const renderStatus = (): void => keepFocus(statusBox, drawStatus)
  const drawStatus = (): void => {
    const s = app.learner.status()
    const paused = s.paused
    replaceChildren(
      statusBox,
      h('h2', null, 'Learning on this device'),
      h(
        'p',
        { class: 'status-state' },
        h('span', { class: `dot ${dotClass(s)}`, 'aria-hidden': 'true' }),
        stateText(s),
      ),
      s.lastReport &&
        h(
          'dl',
          { class: 'facts' },
          fact('Last round', `#${s.lastReport.round}`),
          fact('Model version', `v${s.lastReport.modelVersion}`),
          fact('Trained with', s.lastReport.backend),
          fact('Samples', String(s.lastReport.samples)),
          fact('Sent', `${formatBytes(s.lastReport.bytesUp)} (weight changes only)`),
          fact('Received', formatBytes(s.lastReport.bytesDown)),
        ),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-ghost',
            'aria-pressed': String(paused),
            'data-focus-key': 'pause',
            disabled: s.phase === 'unavailable',
            onclick: () => {
              app.learner.setPaused(!paused)
              app.announce(paused ? 'Learning resumed' : 'Learning paused')
            },
          },
          paused ? 'Resume learning' : 'Pause learning',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-ghost',
            'data-focus-key': 'sync',
            'aria-disabled': String(s.phase !== 'ready' || s.syncing),
            onclick: () => {
              if (s.phase !== 'ready' || s.syncing) return
              app.learner.syncNow().then(
                (report) => app.announce(`Synced: round ${report.round}, model v${report.modelVersion}`),
                (err: unknown) => {
                  console.warn('[storefront] sync failed:', err)
                  app.announce(app.learner.status().problem ?? 'Sync failed')
                },
              )
            },
          },
          s.syncing ? 'Syncing…' : 'Sync now',
        ),
      ),
    )
  }

  let confirming = false
  const eraseBox = h('div', { class: 'panel danger-panel' })
  const renderErase = (): void => {
    replaceChildren(
      eraseBox,
      h('h2', null, 'Erase everything'),
      h(
        'p',
        { class: 'muted' },
        'Deletes your history, your personal taste profile and the cached model from this browser. Your cart is kept.',
      ),
      h(
        'div',
        { class: 'actions' },
        confirming
          ? [
              h(
                'button',
                { type: 'button', class: 'btn btn-danger', 'data-focus': 'confirm', onclick: erase },
                'Yes, erase my data',
              ),
              h(
                'button',
                {
                  type: 'button',
                  class: 'btn btn-ghost',
                  onclick: () => {
                    confirming = false
                    renderErase()
                    eraseBox.querySelector<HTMLElement>('[data-focus="erase"]')?.focus()
                  },
                },
                'Cancel',
              ),
            ]
          : h(
              'button',
              {
                type: 'button',
                class: 'btn btn-danger-ghost',
                'data-focus': 'erase',
                onclick: () => {
                  confirming = true
                  renderErase()
                  eraseBox.querySelector<HTMLElement>('[data-focus="confirm"]')?.focus()
                },
              },
              'Erase my data',
            ),
      ),
    )
  }
  const erase = (): void => {
    confirming = false
    renderErase()
    eraseBox.querySelector<HTMLElement>('[data-focus="erase"]')?.focus()
    app.learner.forget().then(
      () => {
        app.announce('Everything this device knew about you is erased')
        void renderHistory()
      },
      (err: unknown) => {
        console.warn('[storefront] could not erase local data:', err)
        app.announce('Could not erase the data; please try again')
      },
    )
  }

  let latest = 0
  const renderHistory = async (): Promise<void> => {
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
    const recent = events.slice(-HISTORY_SHOWN).reverse()
    replaceChildren(
      historyBox,
      h(
        'p',
        { class: 'muted' },
        `${plural(events.length, 'event')} stored in this browser${events.length > HISTORY_SHOWN ? `; the latest ${HISTORY_SHOWN} below` : ''}.`,
      ),
      h(
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
                product
                  ? h('a', { href: href({ type: 'product', id: product.id }) }, product.name)
                  : e.itemId,
              ),
            )
          }),
        ),
      ),
    )
  }

  app.learner.subscribe((change) => {
    renderStatus()
    if (change === 'recommendations') void renderHistory()
  }, signal)
  renderStatus()
  renderErase()
  void renderHistory()

  const el = h(
    'div',
    { class: 'page page-privacy' },
    h('h1', { tabindex: '-1' }, 'Your data stays on this device'),
    h(
      'div',
      { class: 'explainer' },
      explain(
        ICONS.shield,
        'What stays here',
        'Every product you view, add to your cart or buy is recorded in this browser only (IndexedDB), together with your personal taste profile.',
      ),
      explain(
        ICONS.returns,
        'What leaves',
        'Now and then your browser trains the shared model on your history and sends back the change in the model: numbers for the products you interacted with and a few others picked at random, with no times, order or identity attached.',
      ),
      explain(
        ICONS.check,
        'What we see',
        'Our aggregator averages those changes from many shoppers into a better model for everyone. It does not keep your history, but from the products an upload changes, whoever runs it could tell which products you interacted with.',
      ),
    ),
    h('div', { class: 'privacy-grid' }, statusBox, eraseBox),
    h(
      'section',
      { class: 'history-section', 'aria-labelledby': 'history-title' },
      h('h2', { id: 'history-title' }, 'Your activity'),
      historyBox,
    ),
  )
  return { el, title: 'Your data — Bramble' }
}

function explain(path: string, title: string, text: string): HTMLElement {
  return h(
    'div',
    { class: 'explain' },
    icon(path, 24),
    h('h2', { class: 'explain-title' }, title),
    h('p', null, text),
  )
}

const fact = (term: string, value: string): HTMLElement =>
  h('div', null, h('dt', null, term), h('dd', null, value))

function stateText(s: LearnerStatus): string {
  if (s.phase === 'starting') return 'Starting…'
  if (s.phase === 'unavailable') return s.problem ?? 'Unavailable in this browser'
  if (s.paused) return 'Paused by you: nothing is recorded or sent'
  if (s.syncing) return 'Learning now…'
  if (s.problem) return s.problem
  return s.lastReport
    ? 'On — your browser contributed to the shared model'
    : 'On — waiting for the first round'
}

export function dotClass(s: LearnerStatus): string {
  if (s.phase === 'unavailable' || s.problem) return 'dot-warn'
  if (s.paused || s.phase === 'starting') return 'dot-off'
  return 'dot-on'
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(2)} MB`
}

const timeFormat = new Intl.DateTimeFormat('en-US', {
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
})
const formatTime = (ts: number): string => timeFormat.format(ts)
