export type { StoredEvent } from './db.ts'
export type { Recommendation, SyncPhases, SyncReport } from './engine.ts'
export { FedrecError, type FedrecErrorCode, isFedrecError } from './errors.ts'
export { EVENT_TYPES, type EventType, type LeaveOut, type TrackEvent } from './events.ts'
export type { RetryPolicy } from './net.ts'
export {
  createRecommender,
  type LocalData,
  type Recommender,
  type RecommenderOptions,
} from './recommender.ts'
export type {
  Because,
  Suggestion,
  SuggestionKind,
  SuggestionSet,
  SuggestMode,
  SuggestRequest,
} from './suggest.ts'
export { defineRecommendationsElement } from './widget/define.ts'
export {
  FedrecRecommendations,
  type ItemClickDetail,
  type StateDetail,
  WIDGET_SOURCE,
  WIDGET_TAG,
  type WidgetItem,
  type WidgetState,
} from './widget/element.ts'

import { defineRecommendationsElement } from './widget/define.ts'

// One import is all a shop needs: the element is defined as soon as the library loads in a page.
defineRecommendationsElement()
