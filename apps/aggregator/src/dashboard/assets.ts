import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { gzipSync } from 'node:zlib'

/** One file the dashboard page loads, held in memory: the set is small and fixed. */
export interface Asset {
  body: Uint8Array<ArrayBuffer>
  contentType: string
  /** Strong validator of `body`: browsers revalidate (`Cache-Control: no-cache`) and get a 304. */
  etag: string
  /** `body` gzipped, computed on first use (ECharts: 1.1 MB → 370 kB in about 60 ms) and kept. */
  gzipped(): Uint8Array<ArrayBuffer>
}

const require = createRequire(import.meta.url)
const JS = 'text/javascript; charset=utf-8'

let loaded: ReadonlyMap<string, Asset> | undefined

/**
 * The page's files by the name they are served under (`/dashboard/assets/<name>`, and `index.html` at
 * `/dashboard`), read on first use and kept for the life of the process (about 1.2 MB, almost all ECharts):
 * an aggregator nobody opens the dashboard of never reads them. ECharts is the package's own minified
 * build from node_modules, the version the aggregator depends on: nothing comes from a CDN.
 * @example const assets = loadAssets(); assets.get('dashboard.js')?.contentType // 'text/javascript; charset=utf-8'
 */
export function loadAssets(): ReadonlyMap<string, Asset> {
  loaded ??= readAssets()
  return loaded
}

function readAssets(): ReadonlyMap<string, Asset> {
  const own = (name: string, contentType: string): [string, Asset] => [
    name,
    asset(readFileSync(new URL(`./client/${name}`, import.meta.url)), contentType),
  ]
  return new Map([
    own('index.html', 'text/html; charset=utf-8'),
    own('dashboard.css', 'text/css; charset=utf-8'),
    own('dashboard.js', JS),
    own('charts.js', JS),
    own('data.js', JS),
    ['echarts.min.js', asset(readFileSync(require.resolve('echarts/dist/echarts.min.js')), JS)],
  ])
}

function asset(bytes: Buffer, contentType: string): Asset {
  const body = new Uint8Array(bytes.byteLength)
  body.set(bytes)
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
  let gzipped: Uint8Array<ArrayBuffer> | undefined
  return {
    body,
    contentType,
    etag,
    gzipped() {
      if (!gzipped) {
        const zipped = gzipSync(body)
        gzipped = new Uint8Array(zipped.byteLength)
        gzipped.set(zipped)
      }
      return gzipped
    },
  }
}
