// Vite turns `import url from 'x.wasm?url'` into the asset's URL. Declared here rather than pulling in
// `vite/client` types, which would bring the DOM into this package's typecheck; only browser tests use it.
declare module '*.wasm?url' {
  const url: string
  export default url
}
