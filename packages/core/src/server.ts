/**
 * `@fedrec/core/server`: what an aggregator runs — the streaming, sample-weighted FedAvg accumulator of
 * sparse client deltas, row clipping and the server optimizers (FedAvg, FedAvgM, FedAdam, FedYogi,
 * FedAdagrad), DP-FedAvg noise and the Rényi-DP accountant, and the server half of secure aggregation; plus
 * the model's initial weights and the round defaults it hands clients. No tfjs: pure TypeScript on typed
 * arrays.
 * @example
 * import { applyRound, createAccumulator, createServerOptimizer } from '@fedrec/core/server'
 * const acc = createAccumulator({ tensors: [{ name: 'item_embedding', rows: 5000, cols: 32 }] })
 * for (const update of updates) acc.add(update)
 * applyRound(params, acc.result(), createServerOptimizer({ name: 'fedadam' }), optimizerState)
 * @module
 */
export * from './aggregation/index.ts'
export { DEFAULT_CLIENT_SETTINGS } from './client-round.ts'
export { ModelError, type ModelErrorCode } from './errors.ts'
export {
  itemFeatureStrings,
  MAX_TITLE_TOKENS,
  PRICE_BAND_EDGES,
  type ProductDescription,
  priceBand,
  STOP_WORDS,
} from './item-feature-strings.ts'
export { DEFAULT_FEATURE_ROWS, featureRows, featuresOf, type ItemFeatures } from './item-features.ts'
export {
  addGaussianNoise,
  classicRdpToEpsilon,
  clipDeltas,
  computeRdp,
  createRdpAccountant,
  DEFAULT_ORDERS,
  deltasNorm,
  type GaussianRound,
  PrivacyError,
  type PrivacyErrorCode,
  type RandomWords,
  type RdpAccountant,
  rdpToEpsilon,
  sampledGaussianRdp,
} from './privacy/index.ts'
export { createRng, type Rng } from './rng.ts'
export {
  type AdvertiseKeysMessage,
  checkCohort,
  createSecAggServer,
  DEFAULT_SECAGG_MIN_CLIENTS,
  DEFAULT_SECAGG_QUANTIZATION,
  decodeSecAggSum,
  defaultThreshold,
  isSecAggError,
  MAX_SECAGG_CLIENT_ID,
  MAX_SECAGG_CLIENTS,
  type MaskedInputMessage,
  type RosterEntry,
  restoreSecAggServer,
  runSecAggCohort,
  type SecAggCohortOptions,
  type SecAggCohortReport,
  SecAggError,
  type SecAggErrorCode,
  type SecAggQuantization,
  type SecAggResult,
  type SecAggRoster,
  type SecAggServer,
  type SecAggServerOptions,
  type SecAggServerPhase,
  type SecAggServerState,
  type SecAggSum,
  type ShareInbox,
  type ShareKeysMessage,
  secAggAggregate,
  secAggVectorLength,
  type UnmaskRequest,
  type UnmaskResponse,
} from './secagg/index.ts'
export {
  DEFAULT_DIM,
  type FeatureTable,
  type InitOptions,
  initSharedWeights,
  type SharedWeights,
  sharedWeightsFromSnapshot,
  sharedWeightsToTensors,
} from './weights.ts'
