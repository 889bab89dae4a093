/** The "Your data" page's erase panel: "Erase my data", then a confirmation, then the learner forgets. */
import type { App } from '../app.ts'
import { h, replaceChildren } from '../dom.ts'

/** The panel, already drawn; `onErased` runs once the learner has forgotten everything. */
export function erasePanel(app: App, onErased: () => void): HTMLElement {
  let confirming = false
  const eraseBox = h('div', { class: 'panel danger-panel' })
  const focus = (key: 'erase' | 'confirm'): void =>
    eraseBox.querySelector<HTMLElement>(`[data-focus="${key}"]`)?.focus()
  const render = (): void => {
    replaceChildren(
      eraseBox,
      h('h2', null, 'Erase everything'),
      h(
        'p',
        { class: 'muted' },
        'Deletes your history, your personal taste profile and the cached model from this browser. Your cart is kept.',
      ),
      h('div', { class: 'actions' }, confirming ? [confirmButton(), cancelButton()] : eraseButton()),
    )
  }
  const eraseButton = (): HTMLElement =>
    h(
      'button',
      {
        type: 'button',
        class: 'btn btn-danger-ghost',
        'data-focus': 'erase',
        onclick: () => {
          confirming = true
          render()
          focus('confirm')
        },
      },
      'Erase my data',
    )
  const confirmButton = (): HTMLElement =>
    h(
      'button',
      { type: 'button', class: 'btn btn-danger', 'data-focus': 'confirm', onclick: erase },
      'Yes, erase my data',
    )
  const cancelButton = (): HTMLElement =>
    h(
      'button',
      {
        type: 'button',
        class: 'btn btn-ghost',
        onclick: () => {
          confirming = false
          render()
          focus('erase')
        },
      },
      'Cancel',
    )
  const erase = (): void => {
    confirming = false
    render()
    focus('erase')
    app.learner.forget().then(
      () => {
        app.announce('Everything this device knew about you is erased')
        onErased()
      },
      (err: unknown) => {
        console.warn('[storefront] could not erase local data:', err)
        app.announce('Could not erase the data; please try again')
      },
    )
  }
  render()
  return eraseBox
}
