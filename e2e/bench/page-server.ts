// Serves the benchmark page as a shop's production build, so the figures measure what shoppers would
// download and run.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, preview } from 'vite'

const pageRoot = fileURLToPath(new URL('./page/', import.meta.url))

/** The benchmark page, built for production and served on loopback. */
export interface BenchPageServer {
  /** e.g. http://127.0.0.1:4411/ */
  url: string
  close(): Promise<void>
}

/**
 * Builds e2e/bench/page with Vite (as a shop's production build would: minified, the worker and the tfjs
 * .wasm files as assets) into a temporary folder and serves it with `vite preview`.
 * @example const page = await serveBenchPage(4411); … await page.close()
 */
export async function serveBenchPage(port: number): Promise<BenchPageServer> {
  const outDir = mkdtempSync(join(tmpdir(), 'fedrec-bench-page-'))
  // No config file: these are the settings a shop using @fedrec/browser needs (see apps/storefront).
  const config = {
    root: pageRoot,
    configFile: false as const,
    logLevel: 'warn' as const,
    worker: { format: 'es' as const },
    build: { outDir, emptyOutDir: true, target: 'es2022' },
  }
  await build(config)
  const server = await preview({ ...config, preview: { host: '127.0.0.1', port, strictPort: true } })
  return {
    url: `http://127.0.0.1:${port}/`,
    async close() {
      await server.close()
      rmSync(outDir, { recursive: true, force: true })
    },
  }
}
