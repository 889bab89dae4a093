// Where the storefront finds its aggregator and how often it syncs: page URL, then build-time fallbacks.
import type { RecommenderOptions } from '@fedrec/browser'

export type BackendName = NonNullable<RecommenderOptions['backends']>[number]
const BACKENDS: readonly BackendName[] = ['webgl', 'wasm', 'cpu']
const isBackendName = (x: string): x is BackendName => (BACKENDS as readonly string[]).includes(x)

/** How this storefront talks to the aggregator, read from the page URL with build-time fallbacks. */
export interface StorefrontSettings {
  /** Base URL of the aggregation endpoint, absolute. */
  endpoint: string
  /** Background sync period in seconds; 0 turns the timer off. */
  syncEverySeconds: number
  /** Background sync after this many tracked events; 0 turns it off. */
  syncAfterEvents: number
  /** tfjs backends to try in order (QA: force the WASM or CPU fallback); undefined = the library's default. */
  backends?: BackendName[]
  /** The shop's namespace in a model several shops share (the library's `shop`); undefined = none. */
  shop?: string
  /** Where the products come from, absolute (default: catalogue.json beside the app). */
  catalogueUrl: string
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8787/'
export const DEFAULT_SYNC_EVERY_SECONDS = 60
export const DEFAULT_SYNC_AFTER_EVENTS = 5

export interface ParsedSettings {
  settings: StorefrontSettings
  /** One line per ignored value, for console.warn: a typo in a URL should be visible, not fatal. */
  warnings: string[]
}

/** The build-time variables the settings fall back to. */
export interface SettingsEnv {
  VITE_FEDREC_ENDPOINT?: string | undefined
  VITE_FEDREC_SHOP?: string | undefined
  VITE_FEDREC_CATALOGUE?: string | undefined
}

/**
 * Reads `?endpoint=`, `?syncEvery=` (seconds), `?syncAfter=` (events), `?backends=` (e.g. `wasm,cpu`),
 * `?shop=` and `?catalogue=` from a query string. The endpoint falls back to `VITE_FEDREC_ENDPOINT`, then to
 * the local aggregator; the shop to `VITE_FEDREC_SHOP`, then none (the library refuses a bad name, and says
 * why); the catalogue to `VITE_FEDREC_CATALOGUE`, then catalogue.json beside the app (`base`: the app's URL).
 * Pure, so it is tested in Node.
 * @example parseSettings('?endpoint=http://agg.test/&syncEvery=0', {}, 'http://shop.test/').settings
 */
export function parseSettings(search: string, env: SettingsEnv, base: string): ParsedSettings {
  const params = new URLSearchParams(search)
  const warnings: string[] = []

  let endpoint = DEFAULT_ENDPOINT
  const candidates: [source: string, value: string | null | undefined][] = [
    ['?endpoint=', params.get('endpoint')],
    ['VITE_FEDREC_ENDPOINT', env.VITE_FEDREC_ENDPOINT],
  ]
  for (const [source, value] of candidates) {
    if (value === null || value === undefined || value.trim() === '') continue
    const url = parseHttpUrl(value.trim(), base)
    if (url) {
      endpoint = url
      break
    }
    warnings.push(`${source} ${JSON.stringify(value)} is not an http(s) URL; ignored`)
  }

  const count = (name: string, fallback: number): number => {
    const raw = params.get(name)
    if (raw === null || raw.trim() === '') return fallback
    const value = Number(raw)
    if (Number.isFinite(value) && value >= 0) return value
    warnings.push(`?${name}=${JSON.stringify(raw)} must be a number ≥ 0; using ${fallback}`)
    return fallback
  }

  let catalogueUrl = new URL('catalogue.json', base).toString()
  const catalogues: [source: string, value: string | null | undefined][] = [
    ['?catalogue=', params.get('catalogue')],
    ['VITE_FEDREC_CATALOGUE', env.VITE_FEDREC_CATALOGUE],
  ]
  for (const [source, value] of catalogues) {
    if (value === null || value === undefined || value.trim() === '') continue
    const url = parseHttpUrl(value.trim(), base)
    if (url) {
      catalogueUrl = url
      break
    }
    warnings.push(`${source} ${JSON.stringify(value)} is not an http(s) URL; ignored`)
  }

  const settings: StorefrontSettings = {
    endpoint,
    syncEverySeconds: count('syncEvery', DEFAULT_SYNC_EVERY_SECONDS),
    syncAfterEvents: Math.floor(count('syncAfter', DEFAULT_SYNC_AFTER_EVENTS)),
    catalogueUrl,
  }
  const shop = [params.get('shop'), env.VITE_FEDREC_SHOP].find(
    (v) => v !== null && v !== undefined && v !== '',
  )
  if (shop) settings.shop = shop
  const backends = params.get('backends')
  if (backends !== null && backends.trim() !== '') {
    const names = backends.split(',').map((b) => b.trim())
    if (names.every(isBackendName)) settings.backends = names
    else warnings.push(`?backends=${JSON.stringify(backends)} must list webgl, wasm or cpu; ignored`)
  }
  return { settings, warnings }
}

function parseHttpUrl(value: string, base: string): string | null {
  try {
    const url = new URL(value, base)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null
  } catch {
    return null
  }
}
