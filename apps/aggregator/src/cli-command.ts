// The aggregator's command line: the command, and its parse into the server's options for cli.ts. Every
// flag and its FEDREC_* variable are in cli-options.ts.
import { randomBytes } from 'node:crypto'
import { DEFAULT_FEATURE_ROWS, isServerOptimizerName } from '@fedrec/core/server'
import { parseSecAggConfig, type SecAggConfig } from '@fedrec/protocol'
import { Command, InvalidArgumentError } from 'commander'
import { cliOptions } from './cli-options.ts'
import type { ServerOptions } from './server.ts'

export { DEFAULT_MAX_BODY_BYTES, DEFAULT_STORE, SECAGG_DEFAULTS } from './cli-options.ts'

/**
 * The CLI: every flag also reads a FEDREC_* environment variable; a flag wins over the variable.
 * @example const options = parseCommandLine(process.argv) // ServerOptions
 */
export function createCommand(): Command {
  const command = new Command('fedrec-aggregator').description(
    'The fedrec aggregation endpoint: averages the weight deltas of many shoppers and publishes the next shared model.\n' +
      'Prints one line "fedrec aggregator listening on http://HOST:PORT" to stdout once it serves.\n' +
      'Logs: DEBUG=fedrec:aggregator:*',
  )
  for (const option of cliOptions()) command.addOption(option)
  return command.showHelpAfterError('(run with --help for every option)')
}

/**
 * Parses argv (and FEDREC_* variables) into the server's options. `--dim` and `--seed` are passed on only
 * when given, so that an existing store's values are not contradicted by a default.
 * @example const options = parseCommandLine(['node', 'cli.ts', '--port', '0'])
 */
export function parseCommandLine(
  argv: readonly string[],
): ServerOptions & { operatorTokenGenerated: boolean } {
  const command = createCommand().parse([...argv])
  const o = command.opts<Record<string, unknown>>()
  const given = (key: string): boolean => {
    const source = command.getOptionValueSource(key)
    return source !== undefined && source !== 'default'
  }
  const serverOptimizer = o.serverOptimizer
  if (!isServerOptimizerName(serverOptimizer)) throw new InvalidArgumentError(`unknown server optimizer`)
  // Under DP the default is 'all' (see AggregatorOptions.rowNormalization): only a given value is passed on.
  const rowNormalization = given('rowNormalization')
    ? o.rowNormalization === 'touched'
      ? 'touched'
      : 'all'
    : undefined
  const normPolicy = o.normPolicy === 'reject' ? 'reject' : 'clip'
  const token = typeof o.operatorToken === 'string' && o.operatorToken !== '' ? o.operatorToken : undefined
  return {
    host: String(o.host),
    port: Number(o.port),
    store: String(o.store),
    // The default path is a developer's checkout (`npm start`): created on first use. An explicit path is a
    // deployment, where a missing file means a lost or unmounted volume, not a first start.
    createStore: o.init === true || !given('store'),
    catalogueFile: typeof o.catalogue === 'string' ? o.catalogue : undefined,
    dim: given('dim') ? Number(o.dim) : undefined,
    featureRows:
      o.featureRows !== undefined
        ? Number(o.featureRows)
        : o.itemFeatures === true
          ? DEFAULT_FEATURE_ROWS
          : undefined,
    seed: given('seed') ? Number(o.seed) : undefined,
    negativeIdRows: o.negativeIdRows !== 'off',
    minClients: Number(o.minClients),
    roundDeadlineSeconds: Number(o.roundDeadline),
    mu: Number(o.mu),
    localEpochs: Number(o.localEpochs),
    learningRate: Number(o.learningRate),
    negativesPerPositive: Number(o.negatives),
    batchSize: Number(o.batchSize),
    maxSampleCount: Number(o.maxSampleCount),
    padRatio: Number(o.padRatio),
    updateDtype: o.updateDtype === 'f32' ? 'f32' : 'f16',
    maxEvaluationUsers: Number(o.maxEvaluationUsers),
    maxUpdateNorm: Number(o.maxUpdateNorm),
    maxRowNorm: o.maxRowNorm === undefined ? undefined : Number(o.maxRowNorm),
    normPolicy,
    ackRetentionSeconds: Number(o.ackRetention),
    modelLogVersions: Number(o.modelLog),
    clientRatePerMinute: Number(o.clientRate),
    ipRatePerMinute: Number(o.ipRate),
    serverOptimizer,
    serverLearningRate: o.serverLr === undefined ? undefined : Number(o.serverLr),
    rowNormalization,
    itemRowFloor: o.itemRowFloor === undefined ? undefined : Number(o.itemRowFloor),
    dpNoiseMultiplier: o.dpNoiseMultiplier === undefined ? null : Number(o.dpNoiseMultiplier),
    dpClipNorm: Number(o.dpClipNorm),
    dpDelta: Number(o.dpDelta),
    dpPopulation: o.dpPopulation === undefined ? null : Number(o.dpPopulation),
    secureAggregation: o.secureAggregation === true ? secAggConfig(o) : undefined,
    corsOrigins: String(o.corsOrigin)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    maxBodyBytes: Number(o.maxBodyBytes),
    operatorToken: token ?? randomBytes(24).toString('base64url'),
    operatorTokenGenerated: token === undefined,
  }
}

/** The `--secagg-*` flags as one checked block: the cohort bounds and the threshold must fit together. */
function secAggConfig(o: Record<string, unknown>): SecAggConfig {
  const minCohort = Number(o.secaggMinCohort)
  try {
    return parseSecAggConfig({
      minCohort,
      maxCohort: Number(o.secaggMaxCohort),
      threshold: o.secaggThreshold === undefined ? Math.floor(minCohort / 2) + 1 : Number(o.secaggThreshold),
      phaseTimeoutSeconds: Number(o.secaggPhaseTimeout),
    })
  } catch (err) {
    throw new InvalidArgumentError(
      `--secure-aggregation: ${(err as Error).message} (see --secagg-min-cohort, --secagg-max-cohort, --secagg-threshold)`,
    )
  }
}
