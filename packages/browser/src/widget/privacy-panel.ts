/** The "Your data" panel: what is stored on this device, what leaves it, and the pause and erase switches. */
import type { LocalData, Recommender } from '../recommender.ts'
import { el } from './render.ts'
import { storedLines, TEXT } from './strings.ts'
import type { Warn } from './types.ts'

/** What the panel needs from the element. */
export interface PrivacyPanelOptions {
  /** The element's id prefix: the button controls `${uid}-privacy`. */
  uid: string
  recommender: () => Promise<Recommender>
  /** Says something in the element's live region. */
  announce: (text: string) => void
  warn: Warn
  /** Loads the recommendations again (after an erase). */
  reload: () => void
}

/**
 * The "Your data" button and the panel it opens and closes. The element places both; `refresh()` renders
 * the panel again after the recommendations changed.
 */
export class PrivacyPanel {
  readonly button: HTMLButtonElement
  readonly panel: HTMLElement
  #options: PrivacyPanelOptions
  #open = false
  #confirmErase = false

  constructor(options: PrivacyPanelOptions) {
    this.#options = options
    this.button = el('button', {
      type: 'button',
      part: 'button privacy-button',
      'aria-expanded': 'false',
      'aria-controls': `${options.uid}-privacy`,
    }) as HTMLButtonElement
    this.button.textContent = TEXT.privacyButton
    this.button.addEventListener('click', () => this.#toggle())
    this.panel = el('div', {
      part: 'privacy-panel',
      id: `${options.uid}-privacy`,
      role: 'region',
      'aria-label': TEXT.privacyRegion,
    })
    this.panel.hidden = true
  }

  /** Renders the panel again if it is open. */
  refresh(): void {
    if (this.#open) void this.#render()
  }

  #toggle(): void {
    this.#open = !this.#open
    this.#confirmErase = false
    this.button.setAttribute('aria-expanded', String(this.#open))
    this.panel.hidden = !this.#open
    if (this.#open) void this.#render()
  }

  /** Renders the panel, then focuses the control marked `data-focus="<focus>"` (after a click re-rendered it). */
  async #render(focus?: string): Promise<void> {
    let data: LocalData | null = null
    let rec: Recommender | null = null
    try {
      rec = await this.#options.recommender()
      data = await rec.localData()
    } catch {
      data = null
    }
    const title = el('h3', {})
    title.textContent = TEXT.privacyTitle
    if (!data || !rec) {
      this.panel.replaceChildren(title, paragraph(TEXT.learningUnavailable), paragraph(TEXT.nothingLeaves))
      return
    }
    const stored = el('ul', {})
    for (const line of storedLines(data)) {
      const li = document.createElement('li')
      li.textContent = line
      stored.append(li)
    }
    const actions = el(
      'div',
      { class: 'actions' },
      this.#pauseButton(rec, data.paused),
      ...this.#eraseButtons(rec),
    )
    this.panel.replaceChildren(
      title,
      paragraph(TEXT.storedTitle),
      stored,
      paragraph(data.paused ? TEXT.pausedStatus : TEXT.learningStatus),
      paragraph(TEXT.whatLeaves),
      actions,
    )
    if (focus) this.panel.querySelector<HTMLElement>(`[data-focus="${focus}"]`)?.focus()
  }

  #pauseButton(rec: Recommender, paused: boolean): HTMLElement {
    const pause = button(TEXT.pause, {
      part: 'button pause-button',
      'aria-pressed': String(paused),
      'data-focus': 'pause',
    })
    pause.addEventListener('click', () => {
      const next = pause.getAttribute('aria-pressed') !== 'true'
      rec.setPaused(next).then(
        () => {
          this.#options.announce(next ? TEXT.paused : TEXT.resumed)
          void this.#render('pause')
        },
        (err: unknown) => this.#options.warn('pause', 'could not change the pause switch', err),
      )
    })
    return pause
  }

  /** "Erase everything", or once clicked, "Yes, erase everything" and "Cancel". */
  #eraseButtons(rec: Recommender): HTMLElement[] {
    if (!this.#confirmErase) {
      const erase = button(TEXT.erase, { part: 'button danger erase-button', 'data-focus': 'erase' })
      erase.addEventListener('click', () => {
        this.#confirmErase = true
        void this.#render('confirm')
      })
      return [erase]
    }
    const yes = button(TEXT.eraseConfirm, { part: 'button danger erase-confirm', 'data-focus': 'confirm' })
    yes.addEventListener('click', () => {
      this.#confirmErase = false
      rec.forget().then(
        () => {
          this.#options.announce(TEXT.erased)
          this.#options.reload()
          void this.#render('erase')
        },
        (err: unknown) => this.#options.warn('forget', 'could not erase the local data', err),
      )
    })
    const no = button(TEXT.cancel, { part: 'button', 'data-focus': 'cancel' })
    no.addEventListener('click', () => {
      this.#confirmErase = false
      void this.#render('erase')
    })
    return [yes, no]
  }
}

function paragraph(text: string): HTMLElement {
  const p = el('p', {})
  p.textContent = text
  return p
}

function button(text: string, attrs: Record<string, string>): HTMLElement {
  const b = el('button', { type: 'button', ...attrs })
  b.textContent = text
  return b
}
