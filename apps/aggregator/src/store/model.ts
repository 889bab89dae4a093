/** The current global model and the log of rows each published version changed (model patches). */

/** The current global model as stored: the catalogue and the two shared item tensors. */
export interface StoredModel {
  version: number
  round: number
  dim: number
  itemIds: string[]
  /** numItems × dim, row-major. */
  itemEmbedding: Float32Array
  /** numItems. */
  itemBias: Float32Array
  createdAt: string
  /** The item-feature table and each item's feature rows; absent: an id-only model. */
  features?: StoredFeatures
}

/**
 * A model's item features (see @fedrec/core item-features.ts): the shared table FEATURE_EMBEDDING [F × dim]
 * with FEATURE_BIAS [F], and the rows each catalogue item's features hash to. Shaped like core's
 * FeatureTable and ItemFeatures, so both pass to core as they are.
 */
export interface StoredFeatures {
  table: {
    /** F. */
    rows: number
    /** F × dim, row-major. */
    embedding: Float32Array
    /** F. */
    bias: Float32Array
  }
  /** Item i's feature rows are `rows[offsets[i] .. offsets[i + 1]]`; `offsets` has one entry per item plus one. */
  items: { numFeatures: number; offsets: Uint32Array; rows: Uint32Array }
}

/** The rows that changed from model version `version - 1` to `version`: what model patches are made of. */
export interface ModelChanges {
  version: number
  /** Items of version `version - 1`; rows from `baseItems` on are items added with `version`. */
  baseItems: number
  /** Ascending row ids: rows whose values changed, and every added row. */
  rows: Uint32Array
  /** Ascending rows of the item-feature table whose values changed; absent for an id-only model. */
  featureRows?: Uint32Array
}

/** The model (only the current version is kept), its catalogue, and its change log. */
export interface ModelStore {
  /**
   * The stored model, its checksum verified (a model written before checksums gets one).
   * @throws StoreCorruptError when its bytes do not match the checksum or a value is not finite
   */
  loadModel(): Promise<StoredModel>
  /** Replaces the stored model (only the current version is kept) and appends new catalogue rows. */
  saveModel(model: StoredModel): Promise<void>
  /** Records the rows a published version changed (write it in the transaction that saves that model). */
  insertModelChanges(changes: ModelChanges): Promise<void>
  /** The recorded changes of the versions after `since`, oldest first (gaps are the caller's to notice). */
  modelChanges(since: number): Promise<ModelChanges[]>
  /** Forgets the changes of versions up to `upTo`; returns how many went. */
  pruneModelChanges(upTo: number): Promise<number>
}
