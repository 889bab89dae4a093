// The aggregator as a script host: the built @fedrec/browser served from memory beside the API, so a shop
// without a build step needs one deployment.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import createDebug from 'debug'
import { Hono } from 'hono'
import { HttpError } from '../errors.ts'
import { type Asset, createAsset, sendAsset } from '../static-asset.ts'

const log = createDebug('fedrec:aggregator:bundle')

/** The path the browser bundle is served under: `<script type="module" src="…/fedrec/element.js">`. */
export const BROWSER_BUNDLE_PATH = '/fedrec'

const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  // `application/wasm` lets the browser compile while it downloads (WebAssembly.instantiateStreaming).
  wasm: 'application/wasm',
}

/**
 * The folder holding the built `@fedrec/browser` (its `element.js`, `worker.js`, chunks and .wasm files), or
 * null when there is none: the installed package's own folder when the aggregator was installed from npm,
 * its `dist/` in a checkout of the repository once `npm run build:packages` has run.
 * @example findBrowserBundle() // '/srv/node_modules/@fedrec/browser'
 */
export function findBrowserBundle(): string | null {
  let dir: string
  try {
    dir = dirname(createRequire(import.meta.url).resolve('@fedrec/browser/package.json'))
  } catch {
    return null
  }
  return [dir, join(dir, 'dist')].find((d) => isBundle(d)) ?? null
}

const isBundle = (dir: string): boolean =>
  existsSync(join(dir, 'element.js')) && existsSync(join(dir, 'worker.js'))

/**
 * `GET /fedrec/<file>`: the browser library for shops without a build step, so one deployment gives a shop
 * both the endpoint and the script. Only the bundle's `.js` and `.wasm` files are served (never its
 * `.d.ts`, package.json or anything outside the folder), read on first use and kept in memory (about
 * 2.3 MB, 0.9 MB gzipped); the app's CORS policy (`--cors-origin`) applies, as the shop's page loads them
 * from its own origin. `dir` null (no bundle found): every request gets a 404 that says why.
 * @example app.route('/', browserBundleRoutes(findBrowserBundle()))
 */
export function browserBundleRoutes(dir: string | null): Hono {
  let assets: ReadonlyMap<string, Asset> | undefined
  return new Hono().get(`${BROWSER_BUNDLE_PATH}/:file`, (c) => {
    if (dir === null)
      throw new HttpError(
        404,
        'not_found',
        'this aggregator has no browser bundle: install @fedrec/aggregator from npm (it brings @fedrec/browser), or run `npm run build:packages` in a checkout',
      )
    assets ??= readBundle(dir)
    const asset = assets.get(c.req.param('file'))
    if (!asset) throw new HttpError(404, 'not_found', `the browser bundle has no file ${c.req.param('file')}`)
    // A shop that isolates its pages (COEP, for the threaded WASM build) may still load these files.
    c.header('Cross-Origin-Resource-Policy', 'cross-origin')
    c.header('X-Content-Type-Options', 'nosniff')
    return sendAsset(c, asset)
  })
}

function readBundle(dir: string): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>()
  for (const name of readdirSync(dir)) {
    const type = CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)]
    if (type) assets.set(name, createAsset(readFileSync(join(dir, name)), type))
  }
  log('serving the browser bundle from %s: %d files', dir, assets.size)
  return assets
}
