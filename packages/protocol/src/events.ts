// The event types a shop tracks, in one place: the browser library stores them, core weighs them in training
// and the simulator reads them from data sets. Here, not in core, so a page can check them without tfjs.

/** What a shopper did with an item, weakest signal first. */
export type EventType = 'click' | 'add_to_cart' | 'purchase'

/**
 * Every event type, weakest first.
 * @example
 * for (const type of EVENT_TYPES) console.info(type)
 */
export const EVENT_TYPES: readonly EventType[] = Object.freeze(['click', 'add_to_cart', 'purchase'])

/**
 * Guard for event types arriving from outside (IndexedDB records, `postMessage`, data files).
 * @example
 * if (!isEventType(record.type)) throw new TypeError(`unknown event type ${String(record.type)}`)
 */
export function isEventType(x: unknown): x is EventType {
  return typeof x === 'string' && (EVENT_TYPES as readonly string[]).includes(x)
}
