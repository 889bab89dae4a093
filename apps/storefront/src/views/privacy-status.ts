/** The "Your data" page's learning panel: the learner's state, the last round's figures, pause and sync now. */
import type { App } from '../app.ts'
import { h, keepFocus, replaceChildren } from '../dom.ts'
import type { LearnerStatus } from '../learner.ts'

/** The panel and a `render()` that redraws it from the learner's status, keeping focus on its buttons. */
export function statusPanel(app: App): { el: HTMLElement; render: () => void } {
  const statusBox = h('div', { class: 'panel status-panel' })
  const drawStatus = (): void => {
    const s = app.learner.status()
    replaceChildren(
      statusBox,
      h('h2', null, 'Learning on this device'),
      h(
        'p',
        { class: 'status-state' },
        h('span', { class: `dot ${dotClass(s)}`, 'aria-hidden': 'true' }),
        stateText(s),
      ),
      s.lastReport && lastRound(s.lastReport),
      h('div', { class: 'actions' }, pauseButton(app, s), syncButton(app, s)),
    )
  }
  return { el: statusBox, render: () => keepFocus(statusBox, drawStatus) }
}

function lastRound(report: NonNullable<LearnerStatus['lastReport']>): HTMLElement {
  return h(
    'dl',
    { class: 'facts' },
    fact('Last round', `#${report.round}`),
    fact('Model version', `v${report.modelVersion}`),
    fact('Trained with', report.backend),
    fact('Samples', String(report.samples)),
    fact('Sent', `${formatBytes(report.bytesUp)} (weight changes only)`),
    fact('Received', formatBytes(report.bytesDown)),
  )
}

function pauseButton(app: App, s: LearnerStatus): HTMLElement {
  const paused = s.paused
  return h(
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
  )
}

function syncButton(app: App, s: LearnerStatus): HTMLElement {
  return h(
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

/** The status dot's colour class: a warning, off (paused or starting) or on. */
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
