import { describe, expect, it } from 'vitest'
import { DEFAULT_EVENT_WEIGHTS, EVENT_TYPES, isEventType } from './events.ts'

describe('events', () => {
  it('weights purchase > add_to_cart > click > 0', () => {
    const w = DEFAULT_EVENT_WEIGHTS
    expect(w.purchase).toBeGreaterThan(w.add_to_cart)
    expect(w.add_to_cart).toBeGreaterThan(w.click)
    expect(w.click).toBeGreaterThan(0)
  })

  it('recognises exactly the event types', () => {
    for (const t of EVENT_TYPES) expect(isEventType(t)).toBe(true)
    for (const x of ['view', 'Click', '', 1, null, undefined, {}]) expect(isEventType(x)).toBe(false)
  })
})
