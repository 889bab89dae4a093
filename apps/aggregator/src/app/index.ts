// The HTTP app: wires every route file, CORS, logging and the shared error handler around one aggregator.
import createDebug from 'debug'
import { Hono } from 'hono'
import { cors } from 'hono/cors'
import type { Aggregator } from '../aggregator/index.ts'
import { browserBundleRoutes, findBrowserBundle } from '../browser-bundle/index.ts'
import { dashboardRoutes } from '../dashboard/index.ts'
import { HttpError } from '../errors.ts'
import { catalogueRoutes } from './catalogue.ts'
import { errorToResponse } from './errors.ts'
import { evaluationRoutes } from './evaluations.ts'
import { modelRoutes } from './model.ts'
import { resetRoutes } from './reset.ts'
import { roundRoutes } from './round.ts'
import { secAggRoutes } from './secagg.ts'
import { settingsRoutes } from './settings.ts'
import { statusRoutes } from './status.ts'
import { updateRoutes } from './updates.ts'

export { errorToResponse } from './errors.ts'

const log = createDebug('fedrec:aggregator:http')

/**
 * Options of {@link createApp}.
 * @example const options: AppOptions = { corsOrigins: ['https://shop.example'], maxBodyBytes: 8 << 20, operatorToken }
 */
export interface AppOptions {
  /** Origins allowed to call the API from a browser; `['*']` allows any. */
  corsOrigins: readonly string[]
  /** Largest request body accepted. */
  maxBodyBytes: number
  /** Updates a minute one client may send (default 12); 0 = no limit. */
  clientRatePerMinute?: number | undefined
  /** Updates a minute from one remote address (default 600); 0 = no limit. */
  ipRatePerMinute?: number | undefined
  /** Bearer token of the operator endpoints. */
  operatorToken: string
  /**
   * Folder of the built `@fedrec/browser` served under `/fedrec/` (default: found next to this package,
   * see `findBrowserBundle`); null serves none.
   */
  browserBundleDir?: string | null | undefined
}

/**
 * The HTTP face of an aggregator: `/healthz` and the `/v1` API, JSON errors `{ error: { code, message } }`.
 * @example
 * const app = createApp(createAggregator({ store: ':memory:', catalogue }), { corsOrigins: ['*'], maxBodyBytes: 8 << 20, operatorToken })
 * const res = await app.request('/v1/round')
 */
export function createApp(aggregator: Aggregator, options: AppOptions): Hono {
  const app = new Hono()
  app.use(async (c, next) => {
    const started = performance.now()
    await next()
    log('%s %s %d %dms', c.req.method, c.req.path, c.res.status, Math.round(performance.now() - started))
  })
  app.use(
    cors({
      origin: options.corsOrigins.includes('*') ? '*' : [...options.corsOrigins],
      allowMethods: ['GET', 'HEAD', 'POST', 'PATCH', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'Authorization', 'If-None-Match'],
      exposeHeaders: ['ETag'],
      maxAge: 600,
    }),
  )
  app.get('/healthz', (c) => c.json({ ok: true }))
  const v1 = new Hono()
    .route('/', roundRoutes(aggregator))
    .route('/', modelRoutes(aggregator))
    .route('/', updateRoutes(aggregator, options))
    .route('/', statusRoutes(aggregator, options))
    .route('/', evaluationRoutes(aggregator, options))
    .route('/', catalogueRoutes(aggregator, options))
    .route('/', settingsRoutes(aggregator, options))
    .route('/', resetRoutes(aggregator, options))
  if (aggregator.secagg) v1.route('/', secAggRoutes(aggregator, aggregator.secagg, options))
  app.route('/v1', v1)
  app.route('/', dashboardRoutes(aggregator, options))
  app.route(
    '/',
    browserBundleRoutes(
      options.browserBundleDir === undefined ? findBrowserBundle() : options.browserBundleDir,
    ),
  )
  app.notFound((c) =>
    errorToResponse(new HttpError(404, 'not_found', `no route ${c.req.method} ${c.req.path}`), c),
  )
  app.onError(errorToResponse)
  return app
}
