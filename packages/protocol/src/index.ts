export {
  FORMAT_VERSION,
  ID_BYTES,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  MAX_ITEM_ID_BYTES,
  MODEL_MAGIC,
  MODEL_MEDIA_TYPE,
  UPDATE_MAGIC,
  UPDATE_MEDIA_TYPE,
} from './constants.ts'
export { crc32 } from './crc32.ts'
export { CodedError, ProtocolError, type ProtocolErrorCode } from './errors.ts'
export { isRandomId, newRandomId } from './ids.ts'
export {
  type ErrorBody,
  ErrorBodySchema,
  type EvaluationAck,
  EvaluationAckSchema,
  type EvaluationReport,
  EvaluationReportSchema,
  type EvaluationSummary,
  EvaluationSummarySchema,
  isErrorBody,
  parseErrorBody,
  parseEvaluationAck,
  parseEvaluationReport,
  parseRoundInfo,
  parseStatus,
  parseUpdateAck,
  type RoundConfig,
  RoundConfigSchema,
  type RoundInfo,
  RoundInfoSchema,
  type RoundSummary,
  RoundSummarySchema,
  type Status,
  StatusSchema,
  type UpdateAck,
  UpdateAckSchema,
} from './messages.ts'
export { decodeModel, encodeModel } from './model-codec.ts'
export type { ModelSnapshot, ModelTensor, ModelUpdate, TensorDelta } from './types.ts'
export { checkUpdateFits, decodeUpdate, encodeUpdate } from './update-codec.ts'
