/** Version of both binary formats; a decoder refuses any other. */
export const FORMAT_VERSION = 1
/** First four bytes of an update: ASCII "FRUP". */
export const UPDATE_MAGIC = 0x50555246
/** First four bytes of a model download: ASCII "FRMD". */
export const MODEL_MAGIC = 0x444d5246
/** Client ids and idempotency keys are 16 random bytes, written as 32 lower-case hex digits. */
export const ID_BYTES = 16
/** The shared item-embedding table: one row per catalogue item, `dim` columns. */
export const ITEM_EMBEDDING = 'item_embedding'
/** The shared item biases: one row per catalogue item, one column. */
export const ITEM_BIAS = 'item_bias'
/** Media types of the two binary formats. */
export const UPDATE_MEDIA_TYPE = 'application/vnd.fedrec.update'
export const MODEL_MEDIA_TYPE = 'application/vnd.fedrec.model'
/** Longest item id a model may carry, in UTF-8 bytes. */
export const MAX_ITEM_ID_BYTES = 256
