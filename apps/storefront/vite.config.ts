// How Vite serves and builds the storefront, whose library starts a module worker and loads .wasm files.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

/**
 * The demo shop. It consumes @fedrec/browser the way a customer's Vite app would; the settings below are the
 * ones such an app needs, and nothing here reaches into the library's files.
 */
export default defineConfig({
  // Root is this folder whether Vite runs from here (`npm run dev -w @fedrec/storefront`) or from the repo
  // root (`npx vite build apps/storefront`).
  root: fileURLToPath(new URL('.', import.meta.url)),
  server: { port: 5173, strictPort: false },
  preview: { port: 4173, strictPort: false },
  // The library starts its worker with `new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })`;
  // ES-format workers keep its `import`s (tfjs, comlink) as modules, and the bundle splits like the page's.
  worker: { format: 'es' },
  build: { target: 'es2022' },
  optimizeDeps: {
    // Pre-bundling the library would move its worker.ts URL and its `?url` imports of tfjs's .wasm files
    // into node_modules/.vite, where they no longer resolve: serve it as it ships (what a customer who
    // installs it from npm needs; in this monorepo the linked package would not be pre-bundled anyway).
    exclude: ['@fedrec/browser'],
    // An excluded package is not crawled, so its own dependencies, and those of its worker (which no
    // crawler follows), would be found on first use and bundled mid-visit. Listing them bundles them at
    // server start instead: no late "new dependencies optimized" and no reload during an e2e run.
    include: [
      '@fedrec/browser > comlink',
      '@fedrec/browser > idb',
      '@fedrec/browser > debug',
      '@fedrec/browser > @fedrec/core > @tensorflow/tfjs-core',
      '@fedrec/browser > @fedrec/core > @tensorflow/tfjs-backend-cpu',
      '@fedrec/browser > @fedrec/core > @tensorflow/tfjs-backend-webgl',
      '@fedrec/browser > @fedrec/core > @tensorflow/tfjs-backend-wasm',
      '@fedrec/browser > @fedrec/protocol > valibot',
    ],
  },
})
