/** The widget's public types and names: its states, the item a shop renders, and its events' details. */
import type { Suggestion, SuggestionKind } from '../suggest.ts'

/** The tag name the element is registered under. */
export const WIDGET_TAG = 'fedrec-recommendations'

/** The source recorded with clicks the widget tracks. */
export const WIDGET_SOURCE = 'fedrec-widget'

/**
 * What the widget shows:
 * - `loading`: the skeleton, before the first answer;
 * - `personal` / `similar`: ranked by this shopper's profile / by closeness to the `item`;
 * - `popular`: cold start — a shopper with no trained profile gets the global model's popular items;
 * - `degraded`: this browser cannot run the recommender (no Worker, IndexedDB or tfjs backend): popular
 *   items computed on the page, with a console warning;
 * - `empty`: nothing honest to show yet (a model nobody has trained: every bias is 0) or no model at all.
 */
export type WidgetState = 'loading' | Exclude<SuggestionKind, 'none'> | 'degraded' | 'empty'

/** One item as the shop's renderer sees it. */
export interface WidgetItem {
  itemId: string
  /** 0-based place in the list. */
  position: number
  kind: SuggestionKind | 'degraded'
  /** The shopper's own item this one is closest to, when known. */
  because: Suggestion['because']
  /** `item-url` with `{id}` filled in, or null without one. */
  url: string | null
}

/** Turns an item into the card to show (a Node), or null to skip an item the shop does not know. */
export type RenderItem = (item: WidgetItem) => Node | null | Promise<Node | null>

/** `detail` of the `fedrec-item-click` event. */
export interface ItemClickDetail {
  itemId: string
  position: number
  state: WidgetState
}

/** `detail` of the `fedrec-state` event. */
export interface StateDetail {
  state: WidgetState
  itemIds: string[]
}

/** An item on screen: which product, at which 0-based place among the shown cards. */
export interface ShownItem {
  itemId: string
  position: number
}

/** Logs a problem once per widget and key (see element.ts). */
export type Warn = (key: string, message: string, err: unknown) => void
