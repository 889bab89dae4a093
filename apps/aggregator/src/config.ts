// The aggregator's command line: every flag and its FEDREC_* variable, checked and turned into the
// server's options for cli.ts.
import { randomBytes } from 'node:crypto'
import { isServerOptimizerName, SERVER_OPTIMIZERS } from '@fedrec/core'
import { parseSecAggConfig, SECAGG_MAX_COHORT, type SecAggConfig } from '@fedrec/protocol'
import { Command, InvalidArgumentError, Option } from 'commander'
import { DEFAULTS } from './aggregator/index.ts'
import { MAX_DURATION_SECONDS } from './aggregator/settings.ts'
import { DEFAULT_CLIENT_RATE, DEFAULT_IP_RATE } from './app/updates.ts'
import type { ServerOptions } from './server.ts'

/** Secure aggregation's defaults (`--secagg-*`): cohorts of 5 to 100 shoppers, a minute per phase. */
export const SECAGG_DEFAULTS = { minCohort: 5, maxCohort: 100, phaseTimeoutSeconds: 60 } as const

/** Where the store lives unless --store or FEDREC_STORE says otherwise (relative to the working directory). */
export const DEFAULT_STORE = '.fedrec/aggregator.sqlite'
/** 8 MiB: a 50,000-item × 32 update is 6.6 MB if a client touched every row. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024

const int =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (value: string): number => {
    const n = Number(value)
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer in ${min}..${max}, got ${JSON.stringify(value)}`)
    return n
  }

const num =
  (min: number, { exclusive = false, max = Number.POSITIVE_INFINITY } = {}) =>
  (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || n < min || (exclusive && n === min) || n > max)
      throw new InvalidArgumentError(
        `expected a number ${exclusive ? '>' : '≥'} ${min}${Number.isFinite(max) ? ` and ≤ ${max}` : ''}, got ${JSON.stringify(value)}`,
      )
    return n
  }

const opt = (flags: string, description: string, env: string) => new Option(flags, description).env(env)

/**
 * The CLI: every flag also reads a FEDREC_* environment variable; a flag wins over the variable.
 * @example const options = parseCommandLine(process.argv) // ServerOptions
 */
export function createCommand(): Command {
  return new Command('fedrec-aggregator')
    .description(
      'The fedrec aggregation endpoint: averages the weight deltas of many shoppers and publishes the next shared model.\n' +
        'Prints one line "fedrec aggregator listening on http://HOST:PORT" to stdout once it serves.\n' +
        'Logs: DEBUG=fedrec:aggregator:*',
    )
    .addOption(opt('--host <host>', 'interface to listen on', 'FEDREC_HOST').default('127.0.0.1'))
    .addOption(
      opt('--port <port>', 'port; 0 picks a free one', 'FEDREC_PORT').default(8787).argParser(int(0, 65535)),
    )
    .addOption(
      opt(
        '--store <file>',
        `SQLite store (default ${DEFAULT_STORE}, created on first start); a --store that does not exist is an error unless --init is given`,
        'FEDREC_STORE',
      ).default(DEFAULT_STORE),
    )
    .addOption(
      opt(
        '--init',
        'create the --store file (and its directory) if it does not exist: the first start of a deployment',
        'FEDREC_INIT',
      ),
    )
    .addOption(
      opt(
        '--catalogue <file>',
        'JSON array of item ids (or of objects with an "id"); new ids are added to the model',
        'FEDREC_CATALOGUE',
      ),
    )
    .addOption(
      opt('--dim <n>', 'embedding width of a fresh model', 'FEDREC_DIM').default(32).argParser(int(1, 4096)),
    )
    .addOption(
      opt(
        '--seed <n>',
        'seed of the initial weights (default: random, kept in the store)',
        'FEDREC_SEED',
      ).argParser(int(0, 2 ** 32 - 1)),
    )
    .addOption(
      opt('--min-clients <n>', 'quorum: updates that close a round', 'FEDREC_MIN_CLIENTS')
        .default(DEFAULTS.minClients)
        .argParser(int(1)),
    )
    .addOption(
      opt(
        '--round-deadline <seconds>',
        'a round closes at the latest this long after it opens',
        'FEDREC_ROUND_DEADLINE',
      )
        .default(DEFAULTS.roundDeadlineSeconds)
        .argParser(num(0, { exclusive: true, max: MAX_DURATION_SECONDS })),
    )
    .addOption(
      opt('--mu <mu>', 'FedProx μ handed to clients (0 = FedAvg)', 'FEDREC_MU')
        .default(DEFAULTS.mu)
        .argParser(num(0)),
    )
    .addOption(
      opt('--local-epochs <n>', 'local epochs per round', 'FEDREC_LOCAL_EPOCHS')
        .default(DEFAULTS.localEpochs)
        .argParser(int(1)),
    )
    .addOption(
      opt('--learning-rate <lr>', 'client learning rate', 'FEDREC_LEARNING_RATE')
        .default(DEFAULTS.learningRate)
        .argParser(num(0, { exclusive: true })),
    )
    .addOption(
      opt('--negatives <n>', 'sampled negatives per positive', 'FEDREC_NEGATIVES')
        .default(DEFAULTS.negativesPerPositive)
        .argParser(int(1)),
    )
    .addOption(
      opt('--batch-size <n>', 'client batch size', 'FEDREC_BATCH_SIZE')
        .default(DEFAULTS.batchSize)
        .argParser(int(1)),
    )
    .addOption(
      opt('--max-sample-count <n>', 'largest n_k accepted from one client', 'FEDREC_MAX_SAMPLE_COUNT')
        .default(DEFAULTS.maxSampleCount)
        .argParser(int(1, 0xffffffff)),
    )
    .addOption(
      opt(
        '--pad-ratio <r>',
        'row padding: pseudo-items per real item in every client upload (0 = off; docs/privacy.md)',
        'FEDREC_PAD_RATIO',
      )
        .default(DEFAULTS.padRatio)
        .argParser(num(0, { max: 64 })),
    )
    .addOption(
      opt(
        '--update-dtype <dtype>',
        'how clients send their deltas: f16 (float16, half the bytes) or f32; both are accepted',
        'FEDREC_UPDATE_DTYPE',
      )
        .default(DEFAULTS.updateDtype)
        .choices(['f16', 'f32']),
    )
    .addOption(
      opt(
        '--max-evaluation-users <n>',
        'largest number of users one evaluation report may claim (a client — the simulator today — reports one shopper per report)',
        'FEDREC_MAX_EVALUATION_USERS',
      )
        .default(DEFAULTS.maxEvaluationUsers)
        .argParser(int(1, 1_000_000)),
    )
    .addOption(
      opt(
        '--max-update-norm <norm>',
        "bound on the L2 norm of one client update; 'none' turns it off",
        'FEDREC_MAX_UPDATE_NORM',
      )
        .default(DEFAULTS.maxUpdateNorm)
        .argParser((value: string) =>
          value.trim() === 'none' ? Number.POSITIVE_INFINITY : num(0, { exclusive: true })(value),
        ),
    )
    .addOption(
      opt(
        '--max-row-norm <norm>',
        'robust aggregation: clip each item row of an update (embedding and bias) to this L2 norm (default: off)',
        'FEDREC_MAX_ROW_NORM',
      ).argParser(num(0, { exclusive: true })),
    )
    .addOption(
      opt(
        '--norm-policy <policy>',
        'an update above --max-update-norm is scaled down to it (clip) or refused (reject)',
        'FEDREC_NORM_POLICY',
      )
        .default(DEFAULTS.normPolicy)
        .choices(['clip', 'reject']),
    )
    .addOption(
      opt('--server-optimizer <name>', 'server optimizer', 'FEDREC_SERVER_OPTIMIZER')
        .default(DEFAULTS.serverOptimizer)
        .choices(SERVER_OPTIMIZERS),
    )
    .addOption(
      opt(
        '--server-lr <lr>',
        'server learning rate η (default: 1 for fedavg and fedavgm — 1 with fedavg is plain FedAvg —, 0.01 for the adaptive optimizers)',
        'FEDREC_SERVER_LR',
      ).argParser(num(0, { exclusive: true })),
    )
    .addOption(
      opt(
        '--row-normalization <mode>',
        'divide a row by the samples of all clients or only of those that touched it',
        'FEDREC_ROW_NORMALIZATION',
      )
        .default(DEFAULTS.rowNormalization, `${DEFAULTS.rowNormalization}; all with DP`)
        .choices(['all', 'touched']),
    )
    .addOption(
      opt(
        '--dp-noise-multiplier <sigma>',
        "DP-FedAvg: Gaussian noise σ·S on every coordinate of each round's sum, with ε reported on /v1/status (default: DP off; docs/privacy.md)",
        'FEDREC_DP_NOISE_MULTIPLIER',
      ).argParser(num(0, { exclusive: true })),
    )
    .addOption(
      opt('--dp-clip-norm <S>', 'DP-FedAvg: L2 bound S of one client update', 'FEDREC_DP_CLIP_NORM')
        .default(DEFAULTS.dpClipNorm)
        .argParser(num(0, { exclusive: true })),
    )
    .addOption(
      opt('--dp-delta <delta>', 'DP-FedAvg: the δ at which ε is reported', 'FEDREC_DP_DELTA')
        .default(DEFAULTS.dpDelta)
        .argParser(num(0, { exclusive: true, max: 0.5 })),
    )
    .addOption(
      opt(
        '--dp-population <n>',
        'DP-FedAvg: estimated number of shoppers; ε then assumes each round samples q = --min-clients / n of them (default: q = 1, no amplification)',
        'FEDREC_DP_POPULATION',
      ).argParser(int(1)),
    )
    .addOption(
      opt(
        '--secure-aggregation',
        'secure aggregation (Bonawitz et al. 2017): clients join cohorts and upload masked vectors whose sum alone the aggregator can unmask; plain updates are refused (docs/aggregator.md)',
        'FEDREC_SECURE_AGGREGATION',
      ),
    )
    .addOption(
      opt(
        '--secagg-min-cohort <n>',
        'secure aggregation: members a cohort needs to start',
        'FEDREC_SECAGG_MIN_COHORT',
      )
        .default(SECAGG_DEFAULTS.minCohort)
        .argParser(int(3, SECAGG_MAX_COHORT)),
    )
    .addOption(
      opt(
        '--secagg-max-cohort <n>',
        'secure aggregation: a cohort that reaches this many members starts at once (at most 255)',
        'FEDREC_SECAGG_MAX_COHORT',
      )
        .default(SECAGG_DEFAULTS.maxCohort)
        .argParser(int(3, SECAGG_MAX_COHORT)),
    )
    .addOption(
      opt(
        '--secagg-threshold <t>',
        'secure aggregation: smallest t of the t-of-n secret sharing (survivors needed to unmask); a cohort of n uses max(t, ⌊n/2⌋+1) (default: ⌊min-cohort/2⌋+1)',
        'FEDREC_SECAGG_THRESHOLD',
      ).argParser(int(2, SECAGG_MAX_COHORT)),
    )
    .addOption(
      opt(
        '--secagg-phase-timeout <seconds>',
        'secure aggregation: each phase of a cohort ends at the latest this long after it began (a cohort left with too few members then aborts)',
        'FEDREC_SECAGG_PHASE_TIMEOUT',
      )
        .default(SECAGG_DEFAULTS.phaseTimeoutSeconds)
        .argParser(num(0, { exclusive: true, max: 86_400 })),
    )
    .addOption(
      opt(
        '--cors-origin <origins>',
        'comma-separated origins allowed to call the API; * for any',
        'FEDREC_CORS_ORIGIN',
      ).default('*'),
    )
    .addOption(
      opt('--max-body-bytes <n>', 'largest request body', 'FEDREC_MAX_BODY_BYTES')
        .default(DEFAULT_MAX_BODY_BYTES)
        .argParser(int(1)),
    )
    .addOption(
      opt('--client-rate <n>', 'updates a minute one client may send; 0 = no limit', 'FEDREC_CLIENT_RATE')
        .default(DEFAULT_CLIENT_RATE)
        .argParser(int(0)),
    )
    .addOption(
      opt(
        '--ip-rate <n>',
        'updates (and, separately, evaluation reports) a minute from one remote address; 0 = no limit (behind a proxy every client shares its address)',
        'FEDREC_IP_RATE',
      )
        .default(DEFAULT_IP_RATE)
        .argParser(int(0)),
    )
    .addOption(
      opt(
        '--ack-retention <seconds>',
        'how long the acks of closed rounds are kept for late retries',
        'FEDREC_ACK_RETENTION',
      )
        .default(DEFAULTS.ackRetentionSeconds)
        .argParser(num(0, { max: MAX_DURATION_SECONDS })),
    )
    .addOption(
      opt(
        '--model-log <versions>',
        'keep the changed rows of this many model versions, so clients that far behind download only what changed; 0 = always the whole model',
        'FEDREC_MODEL_LOG',
      )
        .default(DEFAULTS.modelLogVersions)
        .argParser(int(0, 100_000)),
    )
    .addOption(
      opt(
        '--operator-token <token>',
        'bearer token of the operator endpoints (default: a random one, printed to stderr)',
        'FEDREC_OPERATOR_TOKEN',
      ),
    )
    .showHelpAfterError('(run with --help for every option)')
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
    seed: given('seed') ? Number(o.seed) : undefined,
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
