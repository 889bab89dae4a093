// The fixed numbers and names of the wire protocol that clients and aggregator must agree on.

/** Version of the binary formats (update, model, model patch); a decoder refuses any other. */
export const FORMAT_VERSION = 1
/**
 * Newest version of the update format: 2 adds a dtype per tensor (float32 or float16 deltas). Decoders accept
 * 1 and 2; encoders write 1 for float32 updates, byte for byte what every aggregator accepts.
 */
export const UPDATE_FORMAT_VERSION = 2
/** The value types an update's deltas may travel as; the round config says which clients should send. */
export const UPDATE_DTYPES = ['f32', 'f16'] as const
export type UpdateDtype = (typeof UPDATE_DTYPES)[number]
/** First four bytes of an update: ASCII "FRUP". */
export const UPDATE_MAGIC = 0x50555246
/**
 * Newest version of the model download and model patch formats: 2 adds each item's feature rows (and a patch's
 * changed feature-table rows). Decoders accept 1 and 2; encoders write 1, byte for byte as before, for a model
 * without item features.
 */
export const MODEL_FORMAT_VERSION = 2
/** First four bytes of a model download: ASCII "FRMD". */
export const MODEL_MAGIC = 0x444d5246
/** Client ids and idempotency keys are 16 random bytes, written as 32 lower-case hex digits. */
export const ID_BYTES = 16
/** The shared item-embedding table: one row per catalogue item, `dim` columns. */
export const ITEM_EMBEDDING = 'item_embedding'
/** The shared item biases: one row per catalogue item, one column. */
export const ITEM_BIAS = 'item_bias'
/**
 * The shared item-feature table (category, brand, price band, title tokens hashed to rows; core's
 * `item-features.ts`): `F` rows, `dim` columns. Optional: a model or update without it is an id-only model,
 * encoded byte for byte as before.
 */
export const FEATURE_EMBEDDING = 'feature_embedding'
/** The shared item-feature biases: `F` rows, one column; present exactly when `FEATURE_EMBEDDING` is. */
export const FEATURE_BIAS = 'feature_bias'
/** First four bytes of a model patch: ASCII "FRMP". */
export const MODEL_PATCH_MAGIC = 0x504d5246
/** Media types of the binary formats. */
export const UPDATE_MEDIA_TYPE = 'application/vnd.fedrec.update'
export const MODEL_MEDIA_TYPE = 'application/vnd.fedrec.model'
export const MODEL_PATCH_MEDIA_TYPE = 'application/vnd.fedrec.model-patch'
/** Bytes of the SHA-256 digest a model patch carries. */
export const MODEL_DIGEST_BYTES = 32
/** Longest item id a model may carry, in UTF-8 bytes. */
export const MAX_ITEM_ID_BYTES = 256
