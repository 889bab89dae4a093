// The messages the binary formats carry (update, model, model patch), as the codecs decode them.

/**
 * The rows a client changed in one shared tensor and by how much.
 * `rowIds` are strictly ascending; `values` holds `rowIds.length * cols` floats, row-major.
 */
export interface TensorDelta {
  name: string
  cols: number
  rowIds: Uint32Array
  values: Float32Array
}

/** What a client uploads after local training: sparse deltas of the shared tensors and its sample count. */
export interface ModelUpdate {
  /** The round the client trained for. */
  round: number
  /** The global model version the deltas are relative to. */
  modelVersion: number
  /** Opaque random id of the installation (32 hex digits); nothing else identifies the shopper. */
  clientId: string
  /** Random per upload (32 hex digits); a retry of the same upload reuses it. */
  idempotencyKey: string
  /** n_k: how many training samples the client used; the aggregator weights by it. */
  sampleCount: number
  tensors: TensorDelta[]
}

/** One dense shared tensor of the global model, row-major. */
export interface ModelTensor {
  name: string
  rows: number
  cols: number
  values: Float32Array
}

/**
 * Each item's rows of the item-feature table, compressed (CSR): item i's rows are
 * `rows[offsets[i] .. offsets[i + 1]]`. Core's `featureRows` builds it from feature strings; the model carries
 * it so a device scores every item of the catalogue, new ones included, by the same rows as the server.
 */
export interface ItemFeatures {
  /** F: rows of the feature table the indices point into. */
  numFeatures: number
  /** `items + 1` ascending offsets into `rows`, starting at 0. */
  offsets: Uint32Array
  rows: Uint32Array
}

/** The global model as downloaded: the catalogue's item ids (row i is `itemIds[i]`) and the shared tensors. */
export interface ModelSnapshot {
  modelVersion: number
  round: number
  itemIds: string[]
  tensors: ModelTensor[]
  /**
   * Each item's feature rows (`itemIds.length + 1` offsets), with the tensors `feature_embedding` and
   * `feature_bias` of `numFeatures` rows. Absent: an id-only model (model format 1).
   */
  itemFeatures?: ItemFeatures
}

/** The new values of a model patch's changed rows in one shared tensor: `rowIds.length * cols` floats. */
export interface PatchTensor {
  name: string
  cols: number
  values: Float32Array
}

/** What a patch changes in a model with item features. */
export interface PatchFeatures {
  /** The feature rows of the added items `baseItemCount` … `numItems − 1` (`numItems − baseItemCount + 1` offsets). */
  addedItems: ItemFeatures
  /** Changed rows of the feature table, strictly ascending, below `addedItems.numFeatures`. */
  rowIds: Uint32Array
}

/**
 * What changed in the global model from version `fromVersion` to `modelVersion`: the items added to the
 * catalogue since (rows `baseItemCount` … `numItems − 1`) and the new values of every changed row. Applied
 * to model `fromVersion` it gives model `modelVersion` exactly; `digest` proves it.
 */
export interface ModelPatch {
  fromVersion: number
  modelVersion: number
  /** The round of the resulting model. */
  round: number
  /** Items of model `fromVersion`: the catalogue only grows, so its rows keep their ids. */
  baseItemCount: number
  numItems: number
  dim: number
  /** Ids of rows `baseItemCount` … `numItems − 1`. */
  addedItemIds: string[]
  /** Changed rows, strictly ascending; every added row is one of them. */
  rowIds: Uint32Array
  /**
   * Item tensors carry the values of `rowIds`; the feature tensors (`feature_embedding`, `feature_bias`) those
   * of `features.rowIds`.
   */
  tensors: PatchTensor[]
  /** Present exactly when the model has item features (model format 2). */
  features?: PatchFeatures
  /** SHA-256 of the resulting model as `encodeModel` writes it (what `GET /v1/model` answers). */
  digest: Uint8Array
}
