/**
 * The fedrec aggregation endpoint as a library, for launchers and end-to-end tests that want it in-process.
 * @example
 * const server = await startServer({ host: '127.0.0.1', port: 0, store: ':memory:', catalogue, corsOrigins: ['*'], maxBodyBytes: 8 << 20, operatorToken: 'secret' })
 * @module
 */
export {
  type Aggregator,
  AggregatorError,
  type AggregatorErrorCode,
  type AggregatorOptions,
  createAggregator,
  DEFAULTS,
  type RoundReset,
} from './aggregator/index.ts'
export { type AppOptions, createApp } from './app/index.ts'
export { parseItemIds, readCatalogueFile } from './catalogue.ts'
export { createCommand, DEFAULT_MAX_BODY_BYTES, DEFAULT_STORE, parseCommandLine } from './cli-command.ts'
export { HttpError, StartupError } from './errors.ts'
export { type RunningServer, type ServerOptions, startServer } from './server.ts'
