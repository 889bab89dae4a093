// How the library starts its worker so that bundlers, a plain script tag and a CDN all find the worker file.

/**
 * The file name of the worker in the published build (and of the script the worker loads the tfjs .wasm
 * files beside). In this repository's sources the worker is `worker.ts`; the package build rewrites the
 * literal in `startWorker` below and writes `worker.js` next to the entry that starts it.
 */
export const WORKER_FILE = 'worker.js'

/**
 * Starts the library's Web Worker (a module worker).
 *
 * - No `assetBase` (the usual case): `new Worker(new URL('./worker…', import.meta.url))`, the one pattern
 *   Vite, webpack 5, Rollup and Parcel all recognise, so a shop's bundler emits the worker (and the .wasm
 *   files the worker points at the same way) with the rest of its build.
 * - The library itself loaded from another origin (a `<script type="module">` from the aggregator or a
 *   CDN): browsers refuse a cross-origin worker script, so a same-origin `blob:` module imports it instead
 *   (CORS applies, as for the page's own import of the library).
 * - `assetBase`: the worker (and its .wasm files) are served from that folder instead, same origin or not.
 * @example const { worker, release } = startWorker(undefined)
 */
export function startWorker(assetBase: URL | undefined): StartedWorker {
  if (assetBase !== undefined) return importingWorker(new URL(WORKER_FILE, assetBase))
  const here = new URL(import.meta.url)
  const web = here.protocol === 'http:' || here.protocol === 'https:'
  if (web && here.origin !== globalThis.location?.origin) return importingWorker(new URL(WORKER_FILE, here))
  return {
    worker: new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'fedrec' }),
    release: () => undefined,
  }
}

/** A started worker and what to free once it is terminated. */
export interface StartedWorker {
  worker: Worker
  /** Frees the `blob:` URL of a cross-origin start (the worker holds its own copy once loaded). */
  release(): void
}

function importingWorker(script: URL): StartedWorker {
  if (script.origin === globalThis.location?.origin)
    return { worker: new Worker(script, { type: 'module', name: 'fedrec' }), release: () => undefined }
  const source = `import ${JSON.stringify(script.href)}\n`
  const blob = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }))
  return {
    worker: new Worker(blob, { type: 'module', name: 'fedrec' }),
    release: () => URL.revokeObjectURL(blob),
  }
}
