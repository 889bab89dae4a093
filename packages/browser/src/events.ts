// The shop-facing vocabulary of tracked events and of which of them `recommend` leaves out.
import type { EventType } from '@fedrec/protocol'

// From the protocol, not from @fedrec/core: the page's bundle must not pull in tfjs.
export { EVENT_TYPES, type EventType, isEventType } from '@fedrec/protocol'

/** What a storefront reports. `itemId` is the shop's own product id. */
export interface TrackEvent {
  type: EventType
  itemId: string
  /** Optional provenance, e.g. 'widget' when the click came from a recommendation. */
  source?: string
}

/**
 * Which of the shopper's own items `recommend` leaves out: 'carted' (added to the cart or bought — the
 * default), 'bought' (only purchases), 'seen' (everything the shopper touched, views included).
 */
export type LeaveOut = 'carted' | 'bought' | 'seen'

/** The event types each `LeaveOut` choice leaves out. */
export const LEAVE_OUT: Readonly<Record<LeaveOut, readonly EventType[]>> = Object.freeze({
  carted: ['add_to_cart', 'purchase'],
  bought: ['purchase'],
  seen: ['click', 'add_to_cart', 'purchase'],
})

/** Guard for a `LeaveOut` from outside (the page's options). */
export const isLeaveOut = (x: unknown): x is LeaveOut => typeof x === 'string' && Object.hasOwn(LEAVE_OUT, x)
