/** The store's key-value settings (table `meta`): format, schema version, salt, operator settings. */

/** Key-value settings that outlive a restart. */
export interface MetaStore {
  meta(key: string): Promise<string | undefined>
  setMeta(key: string, value: string): Promise<void>
}
