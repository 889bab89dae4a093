// The types of the build-time variables the storefront reads from `import.meta.env`.
interface ImportMetaEnv {
  /** Aggregator URL baked in at build time; `?endpoint=` in the page URL overrides it. */
  readonly VITE_FEDREC_ENDPOINT?: string
}
