// The files of the dashboard page, ECharts included, all served by the aggregator itself (no CDN).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { type Asset, createAsset } from '../static-asset.ts'

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
    createAsset(readFileSync(new URL(`./client/${name}`, import.meta.url)), contentType),
  ]
  return new Map([
    own('index.html', 'text/html; charset=utf-8'),
    own('dashboard.css', 'text/css; charset=utf-8'),
    own('dashboard.js', JS),
    own('charts.js', JS),
    own('data.js', JS),
    ['echarts.min.js', createAsset(readFileSync(require.resolve('echarts/dist/echarts.min.js')), JS)],
  ])
}
