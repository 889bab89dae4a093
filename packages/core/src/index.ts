/**
 * The model and its maths: seeded randomness, training samples from a shopper's events, the shared
 * weights, local training on a slice of rows (FedAvg / FedProx objective), scoring, metrics and backend
 * selection; plus the aggregation maths. Imports only `@tensorflow/tfjs-core`: the caller registers the
 * backends it wants (webgl / wasm / cpu) and passes `tf` in.
 * @example
 * import * as tf from '@tensorflow/tfjs-core'
 * import '@tensorflow/tfjs-backend-wasm'
 * import { buildSequenceSamples, createRng, selectBackend, trainSequence } from '@fedrec/core'
 * await selectBackend(tf, ['wasm', 'cpu'])
 * const samples = buildSequenceSamples(history, { numItems: weights.numItems, negativesPerTarget: 4, rng })
 * const result = await trainSequence(tf, { weights, samples, epochs: 2, learningRate: 0.2, batchSize: 256, rng })
 */
export * from './aggregation/index.ts'
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
export type { LocalTrainingResult, RowLookup } from './local-training.ts'
export { hitRatioAtK, ndcgAtK, rankAmong } from './metrics.ts'
export * from './privacy/index.ts'
export { createRng, type Rng } from './rng.ts'
export type { RowEvent } from './samples.ts'
export { createScorer, type ScoredRow, type Scorer } from './scorer.ts'
export * from './secagg/index.ts'
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
  initSharedWeights,
  initUserVector,
  type SharedWeights,
  sharedWeightsFromSnapshot,
  sharedWeightsToTensors,
} from './weights.ts'
