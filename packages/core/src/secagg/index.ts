/**
 * Secure aggregation (Bonawitz et al., CCS 2017, "Practical Secure Aggregation for Privacy-Preserving
 * Machine Learning"), honest-but-curious variant with double masking: the aggregator learns only the sum of
 * the surviving clients' quantised vectors, and clients may drop out after sharing their keys. WebCrypto
 * (ECDH P-256, HKDF, AES-GCM, AES-CTR) and the audited `shamir-secret-sharing`; no DOM, no Node.
 * @example
 * const { vector } = encodeSecAggVector({ deltas, weight: sampleCount, numItems, dim })
 * const client = await createSecAggClient({ sessionId, id, vectorLength: vector.length })
 * @module
 */
export { createSecAggClient, type SecAggClient, type SecAggClientOptions } from './client.ts'
export { isSecAggError, SecAggError, type SecAggErrorCode } from './errors.ts'
export { runSecAggCohort, type SecAggCohortOptions, type SecAggCohortReport } from './in-process.ts'
export type {
  AdvertiseKeysMessage,
  EncryptedShare,
  MaskedInputMessage,
  RosterEntry,
  SecAggResult,
  SecAggRoster,
  ShareInbox,
  ShareKeysMessage,
  ShareOf,
  UnmaskRequest,
  UnmaskResponse,
} from './messages.ts'
export {
  checkCohort,
  DEFAULT_SECAGG_MIN_CLIENTS,
  defaultThreshold,
  MAX_SECAGG_CLIENT_ID,
  MAX_SECAGG_CLIENTS,
} from './params.ts'
export {
  createSecAggServer,
  restoreSecAggServer,
  type SecAggServer,
  type SecAggServerOptions,
  type SecAggServerPhase,
  type SecAggServerState,
} from './server.ts'
export {
  DEFAULT_SECAGG_QUANTIZATION,
  decodeSecAggSum,
  type EncodeSecAggVectorOptions,
  encodeSecAggVector,
  type SecAggQuantization,
  type SecAggSum,
  type SecAggTableLayout,
  secAggAggregate,
  secAggLayout,
  secAggVectorLength,
} from './vector.ts'
