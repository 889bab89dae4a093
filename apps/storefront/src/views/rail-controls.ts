// Scroll buttons for the storefront's horizontal rows, for shoppers with a mouse.
import { h, icon } from '../dom.ts'

const BACK = 'M15 5l-7 7 7 7'
const FORWARD = 'M9 5l7 7-7 7'

/**
 * Back/forward buttons for a horizontal row of cards, for mouse users (touch users swipe, keyboard users tab
 * through the cards). `wrap` holds the scrolling `.rail`; its content may be replaced at any time.
 */
export function railControls(wrap: HTMLElement, label: string, signal: AbortSignal): HTMLElement {
  const rail = (): HTMLElement | null => wrap.querySelector<HTMLElement>('.rail')
  const still = (): boolean => window.matchMedia('(prefers-reduced-motion: reduce)').matches
  const scroll = (direction: 1 | -1) => () => {
    const r = rail()
    r?.scrollBy({ left: direction * r.clientWidth * 0.85, behavior: still() ? 'auto' : 'smooth' })
  }
  const back = h(
    'button',
    { type: 'button', class: 'btn-icon', 'aria-label': `Scroll ${label} back`, onclick: scroll(-1) },
    icon(BACK, 18),
  )
  const forward = h(
    'button',
    { type: 'button', class: 'btn-icon', 'aria-label': `Scroll ${label} forward`, onclick: scroll(1) },
    icon(FORWARD, 18),
  )
  const el = h('div', { class: 'rail-controls' }, back, forward)

  const update = (): void => {
    const r = rail()
    const overflow = r !== null && r.scrollWidth > r.clientWidth + 1
    el.hidden = !overflow
    if (!r || !overflow) return
    back.disabled = r.scrollLeft <= 1
    forward.disabled = r.scrollLeft + r.clientWidth >= r.scrollWidth - 1
  }
  // Scroll events do not bubble; capturing them on the wrapper also covers rails swapped in later.
  wrap.addEventListener('scroll', update, { capture: true, passive: true, signal })
  const resize = new ResizeObserver(update)
  resize.observe(wrap)
  const mutations = new MutationObserver(update)
  mutations.observe(wrap, { childList: true })
  signal.addEventListener(
    'abort',
    () => {
      resize.disconnect()
      mutations.disconnect()
    },
    { once: true },
  )
  requestAnimationFrame(update)
  return el
}
