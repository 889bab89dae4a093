/** What a shopper did with an item, weakest signal first. */
export type EventType = 'click' | 'add_to_cart' | 'purchase'

/**
 * Every event type, weakest first.
 * @example
 * for (const type of EVENT_TYPES) console.info(type, DEFAULT_EVENT_WEIGHTS[type])
 */
export const EVENT_TYPES: readonly EventType[] = Object.freeze(['click', 'add_to_cart', 'purchase'])

/** How much a positive counts in the loss, by the strongest event the shopper had with the item. */
export interface EventWeights {
  click: number
  add_to_cart: number
  purchase: number
}

/**
 * Default weights: each step down the funnel doubles the confidence that the shopper likes the item.
 * @example
 * buildSequenceSamples(events, { numItems, negativesPerTarget: 4, eventWeights: DEFAULT_EVENT_WEIGHTS, rng })
 */
export const DEFAULT_EVENT_WEIGHTS: EventWeights = Object.freeze({ click: 1, add_to_cart: 2, purchase: 4 })

/**
 * Guard for event types arriving from outside (IndexedDB records, `postMessage`).
 * @example
 * if (!isEventType(record.type)) throw new TypeError(`unknown event type ${String(record.type)}`)
 */
export function isEventType(x: unknown): x is EventType {
  return typeof x === 'string' && (EVENT_TYPES as readonly string[]).includes(x)
}
