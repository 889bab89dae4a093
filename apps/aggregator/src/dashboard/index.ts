// The operator dashboard mounted on the aggregator: a public page that holds no data, and its data behind
// the operator token.
import type { Status } from '@fedrec/protocol'
import { type Context, Hono } from 'hono'
import { etag } from 'hono/etag'
import type { Aggregator } from '../aggregator/index.ts'
import { operatorAuth } from '../app/operator-auth.ts'
import { HttpError } from '../errors.ts'
import { type Asset, sendAsset } from '../static-asset.ts'
import { loadAssets } from './assets.ts'

/**
 * The page's Content-Security-Policy: its own files only, no inline script or style, no eval, no frames,
 * no form posts (a token typed into the form must never end up in a URL), data only from this origin.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/**
 * `GET /v1/dashboard`: what the dashboard page draws. The operator's status as `GET /v1/status` answers it
 * to the token, and what the page needs to say which of it anyone may read without the token.
 */
export interface DashboardData {
  status: Status
  /** Participants a closed round needs before the public `GET /v1/status` shows it. */
  publicQuorum: number
}

/**
 * The operator dashboard: `GET /dashboard` (the page: HTML, CSS, scripts and ECharts; public, it holds no
 * data) and `GET /v1/dashboard` (its data, operator token only, with an ETag so the page's polling costs a
 * 304 while nothing changes). The page reads the token from its URL fragment (`/dashboard#token=…`, never
 * sent to a server) or a form and keeps it in sessionStorage.
 * @example app.route('/', dashboardRoutes(aggregator, { operatorToken }))
 */
export function dashboardRoutes(aggregator: Aggregator, { operatorToken }: { operatorToken: string }): Hono {
  const serve = (c: Context, asset: Asset): Response => {
    setSecurityHeaders(c)
    return sendAsset(c, asset)
  }
  return (
    new Hono()
      .get('/dashboard', (c) => serve(c, loadAssets().get('index.html')!))
      // The page's URLs are relative (it may sit behind a proxy under a prefix): they need no trailing slash.
      .get('/dashboard/', (c) => c.redirect('../dashboard', 308))
      .get('/dashboard/assets/:name', (c) => {
        const asset = loadAssets().get(c.req.param('name'))
        if (!asset || c.req.param('name') === 'index.html')
          throw new HttpError(404, 'not_found', `the dashboard has no file ${c.req.param('name')}`)
        return serve(c, asset)
      })
      .get('/v1/dashboard', operatorAuth(operatorToken), etag(), async (c) => {
        // The operator's view of the model: no shared cache may keep it.
        c.header('Cache-Control', 'private, no-store')
        return c.json({
          status: await aggregator.status(),
          publicQuorum: aggregator.publicQuorum(),
        } satisfies DashboardData)
      })
  )
}

function setSecurityHeaders(c: Context): void {
  c.header('Content-Security-Policy', DASHBOARD_CSP)
  c.header('X-Content-Type-Options', 'nosniff')
  c.header('Referrer-Policy', 'no-referrer')
  c.header('Cross-Origin-Opener-Policy', 'same-origin')
  c.header('Cross-Origin-Resource-Policy', 'same-origin')
}
