/**
 * "Your data": what is kept on this device, what leaves it, and the switches to pause or erase it. The
 * page's sections are privacy-status.ts, privacy-erase.ts and privacy-history.ts.
 * @module
 */
import type { App, View } from '../app.ts'
import { h, ICONS, icon } from '../dom.ts'
import { erasePanel } from './privacy-erase.ts'
import { historyList } from './privacy-history.ts'
import { statusPanel } from './privacy-status.ts'

/** "Your data": what is kept on this device, what leaves it, and the switches to pause or erase it. */
export function privacyView(app: App, signal: AbortSignal): View {
  const status = statusPanel(app)
  const history = historyList(app, signal)
  const erase = erasePanel(app, () => void history.render())

  app.learner.subscribe((change) => {
    status.render()
    if (change === 'recommendations') void history.render()
  }, signal)
  status.render()
  void history.render()

  const el = h(
    'div',
    { class: 'page page-privacy' },
    h('h1', { tabindex: '-1' }, 'Your data stays on this device'),
    explainer(),
    h('div', { class: 'privacy-grid' }, status.el, erase),
    h(
      'section',
      { class: 'history-section', 'aria-labelledby': 'history-title' },
      h('h2', { id: 'history-title' }, 'Your activity'),
      history.el,
    ),
  )
  return { el, title: 'Your data — Bramble' }
}

function explainer(): HTMLElement {
  return h(
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
  )
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
