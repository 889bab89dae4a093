/**
 * The library a shop imports: `createRecommender()` (track, sync, recommend, suggest, rerank) and the
 * `<fedrec-recommendations>` element's class. Importing it has no side effects; `@fedrec/browser/element`
 * (or `defineRecommendationsElement()`) defines the element.
 * @example
 * import { createRecommender } from '@fedrec/browser'
 * const rec = await createRecommender({ endpoint: 'https://agg.example/' })
 * @module
 */
// The option types of createRecommender() that come from the model package, so a shop needs one import.
export type { BackendName, EventWeights } from '@fedrec/core/client'
export type { RetryPolicy } from '@fedrec/protocol'
export type { StoredEvent } from './db.ts'
export type { Recommendation, SyncPhases, SyncReport } from './engine/index.ts'
export { FedrecError, type FedrecErrorCode, isFedrecError } from './errors.ts'
export { EVENT_TYPES, type EventType, type LeaveOut, type TrackEvent } from './events.ts'
export {
  createRecommender,
  type LocalData,
  type Recommender,
  type RecommenderOptions,
} from './recommender.ts'
export type {
  RerankContext,
  RerankedItem,
  RerankKind,
  RerankOptions,
  RerankReason,
  RerankResult,
  UnknownPlacement,
} from './rerank.ts'
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
