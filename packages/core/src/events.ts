// How much each kind of event counts in training; the event types themselves are the protocol's.
export { EVENT_TYPES, type EventType, isEventType } from '@fedrec/protocol'

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
