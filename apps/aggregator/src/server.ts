// The aggregator on a socket: binds, opens the store, serves the app and shuts down gracefully; used by
// cli.ts and by programs that embed the aggregator.
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import createDebug from 'debug'
import type { Hono } from 'hono'
import { type Aggregator, type AggregatorOptions, createAggregator } from './aggregator/index.ts'
import { type AppOptions, createApp } from './app/index.ts'
import type { CatalogueEntry } from './catalogue.ts'
import { readCatalogueSpec } from './catalogue-shops.ts'
import { logError } from './error-log.ts'

const log = createDebug('fedrec:aggregator:server')

/**
 * Options of {@link startServer}: the aggregator's and the app's, plus where to listen.
 * @example const options: ServerOptions = { host: '127.0.0.1', port: 0, store: ':memory:', corsOrigins: ['*'], maxBodyBytes: 8 << 20, operatorToken }
 */
export interface ServerOptions extends Omit<AggregatorOptions, 'catalogue'>, AppOptions {
  host: string
  /** 0 picks a free port. */
  port: number
  /** JSON catalogue file read at start, or several shops' as `a=fileA.json,b=fileB.json` (see readCatalogueSpec). */
  catalogueFile?: string | undefined
  catalogue?: readonly CatalogueEntry[]
}

/** A listening aggregator. */
export interface RunningServer {
  /** `http://HOST:PORT` with the port actually bound. */
  url: string
  port: number
  aggregator: Aggregator
  /** Stops accepting, lets requests in flight finish (at most `graceMs`), then closes the store. */
  close(graceMs?: number): Promise<void>
}

/**
 * Listens, then opens the store and builds the app. Binding comes first so that a port already in use
 * fails before a fresh store is created; until the store is open every request gets 503 `starting`.
 * Rejects with a StartupError when the store is unusable (and then no longer listens).
 * @example
 * const server = await startServer({ ...options, port: 0 })
 * await fetch(`${server.url}/v1/round`)
 * await server.close()
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const catalogue = options.catalogueFile ? readCatalogueSpec(options.catalogueFile) : options.catalogue
  let app: Hono | undefined
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
    (resolve, reject) => {
      const server = serve(
        {
          fetch: (request, env) => (app ? app.fetch(request, env) : starting()),
          hostname: options.host,
          port: options.port,
        },
        (info: AddressInfo) => resolve({ server, port: info.port }),
      )
      server.once('error', reject)
    },
  )
  let aggregator: Aggregator
  try {
    aggregator = await createAggregator({ ...options, catalogue })
    app = createApp(aggregator, options)
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    throw err
  }
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  const url = `http://${host}:${port}`
  log('serving %s (store %s)', url, aggregator.storePath)
  return {
    url,
    port,
    aggregator,
    close: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          if ('closeAllConnections' in server) server.closeAllConnections()
        }, graceMs)
        server.close(() => {
          clearTimeout(force)
          // The store closes after the state change under way; a failure to close is logged, not thrown at
          // a caller that is shutting down anyway.
          aggregator
            .close()
            .catch((err: unknown) => logError('store_close_failed', err))
            .finally(resolve)
        })
        if ('closeIdleConnections' in server) server.closeIdleConnections()
      }),
  }
}

/** The answer while the store is being opened (the port is bound, the URL not yet announced). */
const starting = (): Response =>
  Response.json(
    { error: { code: 'starting', message: 'the aggregator is opening its store; retry in a moment' } },
    { status: 503, headers: { 'Retry-After': '1' } },
  )
