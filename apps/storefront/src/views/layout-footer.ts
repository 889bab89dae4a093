/** The site footer: the shop's blurb and the one-line learning status, kept up to date. */
import { h } from '../dom.ts'
import type { Learner, LearnerStatus } from '../learner.ts'
import { href } from '../router.ts'
import { dotClass } from './privacy-status.ts'

/** Builds the footer; its status line follows `learner` from then on. */
export function siteFooter(learner: Learner): HTMLElement {
  return h(
    'footer',
    { class: 'site-footer' },
    h(
      'div',
      { class: 'container footer-inner' },
      h(
        'div',
        null,
        h('p', { class: 'footer-brand' }, 'Bramble'),
        h(
          'p',
          { class: 'muted small' },
          'A demo shop for fedrec: recommendations learned in your browser with federated learning.',
        ),
      ),
      h(
        'div',
        { class: 'footer-status' },
        statusLine(learner),
        h('a', { class: 'small', href: href({ type: 'privacy' }) }, 'Your data & privacy'),
      ),
    ),
  )
}

function statusLine(learner: Learner): HTMLElement {
  const statusDot = h('span', { class: 'dot', 'aria-hidden': 'true' })
  const statusText = h('span')
  const line = h('p', { class: 'sync-status', role: 'status' }, statusDot, statusText)
  const updateStatus = (): void => {
    const s = learner.status()
    statusDot.className = `dot ${dotClass(s)}`
    statusText.textContent = statusLineText(s)
  }
  learner.subscribe(updateStatus)
  updateStatus()
  return line
}

/** The footer's one-line account of learning: the last round, or why there is none. */
export function statusLineText(s: LearnerStatus): string {
  if (s.phase === 'starting') return 'Starting on-device learning…'
  if (s.phase === 'unavailable') return s.problem ?? 'Personal recommendations are unavailable'
  if (s.paused) return 'Learning paused by you'
  if (s.problem) return s.problem
  const syncing = s.syncing ? ' · syncing…' : ''
  if (!s.lastReport) return `Learning on this device · no round yet${syncing}`
  const r = s.lastReport
  return `Last sync: round ${r.round} · model v${r.modelVersion} · ${r.backend}${syncing}`
}
