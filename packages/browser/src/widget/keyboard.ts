/** Arrow keys, Home and End move between the widget's items (to each item's first focusable element); Tab still walks everything. */
import type { ShownItem } from './types.ts'

const KEYS = ['ArrowLeft', 'ArrowRight', 'Home', 'End']

/**
 * The position a key moves to from position `at` among `last + 1` items; null for a key that does not move.
 * @example targetPosition('ArrowRight', 2, 2) // 2 (stays on the last item)
 */
export function targetPosition(key: string, at: number, last: number): number | null {
  if (!KEYS.includes(key)) return null
  if (key === 'Home') return 0
  if (key === 'End') return last
  return Math.max(0, Math.min(last, at + (key === 'ArrowRight' ? 1 : -1)))
}

/** Handles a keydown inside the element `host` whose items on screen are `shown`. */
export function moveBetweenItems(host: HTMLElement, shown: readonly ShownItem[], event: KeyboardEvent): void {
  if (!KEYS.includes(event.key)) return
  const path = event.composedPath()
  const inItem = path.find(
    (n): n is HTMLElement =>
      n instanceof HTMLElement && (n.dataset.fedrecItem !== undefined || n.dataset.itemId !== undefined),
  )
  if (!inItem) return
  const id = inItem.dataset.fedrecItem ?? inItem.dataset.itemId
  const at = shown.findIndex((i) => i.itemId === id)
  if (at < 0) return
  const to = targetPosition(event.key, at, shown.length - 1)
  const wrap = host.querySelector<HTMLElement>(`:scope > [data-fedrec-position="${to}"]`)
  const focusable = wrap?.querySelector<HTMLElement>(
    'a[href], button, input, [tabindex]:not([tabindex="-1"])',
  )
  if (!focusable) return
  event.preventDefault()
  focusable.focus()
  focusable.scrollIntoView({ block: 'nearest', inline: 'nearest' })
}
