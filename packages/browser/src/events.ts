import type { EventType } from '@fedrec/core'

export type { EventType }

// Kept here, not imported from @fedrec/core at run time: the page's bundle must not pull in tfjs.
export const EVENT_TYPES: readonly EventType[] = ['click', 'add_to_cart', 'purchase']

/** What a storefront reports. `itemId` is the shop's own product id. */
export interface TrackEvent {
  type: EventType
  itemId: string
  /** Optional provenance, e.g. 'widget' when the click came from a recommendation. */
  source?: string
}

export const isEventType = (x: unknown): x is EventType => EVENT_TYPES.includes(x as EventType)
