/**
 * `@fedrec/core/client`: what a shopper's device runs — training samples from the shopper's events, the
 * next-item model's local training on a slice of rows (FedAvg / FedProx objective), DP clipping of the
 * update, scoring, metrics and backend selection, and the client half of secure aggregation. Imports only
 * `@tensorflow/tfjs-core`: the caller registers the backends it wants (webgl / wasm / cpu) and passes `tf` in.
 * @example
 * import * as tf from '@tensorflow/tfjs-core'
 * import '@tensorflow/tfjs-backend-wasm'
 * import { createRng, selectBackend, trainClientRound } from '@fedrec/core/client'
 * await selectBackend(tf, ['wasm', 'cpu'])
 * const { result } = await trainClientRound(tf, { weights, userVector, events, config: info.config, rng: createRng(1) })
 * @module
 */
export {
  type BackendAttempt,
  BackendError,
  type BackendName,
  isWebGLContextLost,
  selectBackend,
} from './backend.ts'
export {
  type ClientRoundConfig,
  type ClientRoundOptions,
  type ClientRoundResult,
  DEFAULT_CLIENT_SETTINGS,
  sequenceSettingsOf,
  trainClientRound,
} from './client-round.ts'
export { ModelError, type ModelErrorCode } from './errors.ts'
export {
  DEFAULT_EVENT_WEIGHTS,
  EVENT_TYPES,
  type EventType,
  type EventWeights,
  isEventType,
} from './events.ts'
export {
  itemFeatureStrings,
  MAX_TITLE_TOKENS,
  PRICE_BAND_EDGES,
  type ProductDescription,
  priceBand,
  STOP_WORDS,
} from './item-feature-strings.ts'
export {
  DEFAULT_FEATURE_ROWS,
  featureRows,
  featuresOf,
  fnv1a32,
  hashFeature,
  type ItemFeatures,
  itemTable,
} from './item-features.ts'
export type { LocalTrainingResult, RowLookup } from './local-training.ts'
export { hitRatioAtK, ndcgAtK, rankAmong } from './metrics.ts'
export { clipDeltas, deltasNorm, PrivacyError, type PrivacyErrorCode } from './privacy/index.ts'
export { rerankByScore } from './rerank.ts'
export { createRng, type Rng } from './rng.ts'
export type { RowEvent } from './samples.ts'
export { createScorer, type ScoredRow, type Scorer, type ScorerOptions } from './scorer.ts'
export {
  type AdvertiseKeysMessage,
  createSecAggClient,
  DEFAULT_SECAGG_QUANTIZATION,
  type EncodeSecAggVectorOptions,
  type EncryptedShare,
  encodeSecAggVector,
  isSecAggError,
  type MaskedInputMessage,
  type RosterEntry,
  type SecAggClient,
  type SecAggClientOptions,
  SecAggError,
  type SecAggErrorCode,
  type SecAggQuantization,
  type SecAggRoster,
  type SecAggTableLayout,
  type ShareInbox,
  type ShareKeysMessage,
  type ShareOf,
  secAggLayout,
  secAggVectorLength,
  type UnmaskRequest,
  type UnmaskResponse,
} from './secagg/index.ts'
export {
  buildSequenceSamples,
  DEFAULT_SEQUENCE,
  type SequenceSamples,
  type SequenceSettings,
  sequenceQuery,
} from './sequence.ts'
export { type SequenceTrainingOptions, trainSequence } from './train-sequence.ts'
export {
  DEFAULT_DIM,
  type FeatureTable,
  type InitOptions,
  initSharedWeights,
  initUserVector,
  type SharedWeights,
  sharedWeightsFromSnapshot,
  sharedWeightsToTensors,
} from './weights.ts'
