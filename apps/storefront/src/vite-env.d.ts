// The types of the build-time variables the storefront reads from `import.meta.env`.
interface ImportMetaEnv {
  /** Aggregator URL baked in at build time; `?endpoint=` in the page URL overrides it. */
  readonly VITE_FEDREC_ENDPOINT?: string
  /** The shop's namespace in a shared model, baked in at build time; `?shop=` overrides it. */
  readonly VITE_FEDREC_SHOP?: string
  /** Catalogue URL baked in at build time (default catalogue.json beside the app); `?catalogue=` overrides it. */
  readonly VITE_FEDREC_CATALOGUE?: string
}
