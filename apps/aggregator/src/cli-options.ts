/** The CLI's options in groups (serving, rounds, aggregation, privacy, service), in the order --help lists them. */
import { DEFAULT_FEATURE_ROWS, DEFAULT_ITEM_ROW_FLOOR, SERVER_OPTIMIZERS } from '@fedrec/core/server'
import { SECAGG_MAX_COHORT } from '@fedrec/protocol'
import { InvalidArgumentError, Option } from 'commander'
import { DEFAULTS } from './aggregator/index.ts'
import { MAX_DURATION_SECONDS } from './aggregator/settings.ts'
import { DEFAULT_CLIENT_RATE, DEFAULT_IP_RATE } from './app/updates.ts'

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

/** Where it listens, and the store and fresh model it starts from. */
const serveOptions = (): Option[] => [
  opt('--host <host>', 'interface to listen on', 'FEDREC_HOST').default('127.0.0.1'),
  opt('--port <port>', 'port; 0 picks a free one', 'FEDREC_PORT').default(8787).argParser(int(0, 65535)),
  opt(
    '--store <file|url>',
    `the store: a SQLite file (default ${DEFAULT_STORE}, created on first start; one aggregator process), or a PostgreSQL URL postgres://user:password@host:port/database (several replicas may share it); a --store that does not exist (an empty database) is an error unless --init is given`,
    'FEDREC_STORE',
  ).default(DEFAULT_STORE),
  opt(
    '--init',
    'create the --store file (and its directory) if it does not exist, or the schema in an empty PostgreSQL database: the first start of a deployment',
    'FEDREC_INIT',
  ),
  opt(
    '--catalogue <file>',
    'JSON array of item ids (or of objects with an "id" and optionally category, brand, price, title: the item features); new ids are added to the model. Several shops sharing the model: a=shop-a.json,b=shop-b.json (their ids become a:<id>, b:<id>)',
    'FEDREC_CATALOGUE',
  ),
  opt('--dim <n>', 'embedding width of a fresh model', 'FEDREC_DIM').default(32).argParser(int(1, 4096)),
  opt(
    '--item-features',
    `give a fresh model an item-feature table of --feature-rows rows (default ${DEFAULT_FEATURE_ROWS}), into which the catalogue's features hash`,
    'FEDREC_ITEM_FEATURES',
  ),
  opt(
    '--feature-rows <n>',
    'rows of the item-feature table of a fresh model (implies --item-features); an existing store must have as many',
    'FEDREC_FEATURE_ROWS',
  ).argParser(int(1, 2 ** 24)),
  opt(
    '--negative-id-rows <on|off>',
    "with item features: 'off' has clients train sampled negatives into the feature rows only, not their own id rows and biases — better for established products and for shops learning together, worse for products nobody has touched yet (docs/simulator.md)",
    'FEDREC_NEGATIVE_ID_ROWS',
  )
    .default('on')
    .choices(['on', 'off']),
  opt(
    '--seed <n>',
    'seed of the initial weights (default: random, kept in the store)',
    'FEDREC_SEED',
  ).argParser(int(0, 2 ** 32 - 1)),
]

/** The rounds, and what clients train and evaluate with (handed out in every round config). */
const roundOptions = (): Option[] => [
  opt('--min-clients <n>', 'quorum: updates that close a round', 'FEDREC_MIN_CLIENTS')
    .default(DEFAULTS.minClients)
    .argParser(int(1)),
  opt(
    '--round-deadline <seconds>',
    'a round closes at the latest this long after it opens',
    'FEDREC_ROUND_DEADLINE',
  )
    .default(DEFAULTS.roundDeadlineSeconds)
    .argParser(num(0, { exclusive: true, max: MAX_DURATION_SECONDS })),
  opt('--mu <mu>', 'FedProx μ handed to clients (0 = FedAvg)', 'FEDREC_MU')
    .default(DEFAULTS.mu)
    .argParser(num(0)),
  opt('--local-epochs <n>', 'local epochs per round', 'FEDREC_LOCAL_EPOCHS')
    .default(DEFAULTS.localEpochs)
    .argParser(int(1)),
  opt('--learning-rate <lr>', 'client learning rate', 'FEDREC_LEARNING_RATE')
    .default(DEFAULTS.learningRate)
    .argParser(num(0, { exclusive: true })),
  opt('--negatives <n>', 'sampled negatives per positive', 'FEDREC_NEGATIVES')
    .default(DEFAULTS.negativesPerPositive)
    .argParser(int(1)),
  opt('--batch-size <n>', 'client batch size', 'FEDREC_BATCH_SIZE')
    .default(DEFAULTS.batchSize)
    .argParser(int(1)),
  opt('--max-sample-count <n>', 'largest n_k accepted from one client', 'FEDREC_MAX_SAMPLE_COUNT')
    .default(DEFAULTS.maxSampleCount)
    .argParser(int(1, 0xffffffff)),
  opt(
    '--pad-ratio <r>',
    'row padding: pseudo-items per real item in every client upload (0 = off; docs/privacy.md)',
    'FEDREC_PAD_RATIO',
  )
    .default(DEFAULTS.padRatio)
    .argParser(num(0, { max: 64 })),
  opt(
    '--update-dtype <dtype>',
    'how clients send their deltas: f16 (float16, half the bytes) or f32; both are accepted',
    'FEDREC_UPDATE_DTYPE',
  )
    .default(DEFAULTS.updateDtype)
    .choices(['f16', 'f32']),
  opt(
    '--max-evaluation-users <n>',
    'largest number of users one evaluation report may claim (a client — the simulator today — reports one shopper per report)',
    'FEDREC_MAX_EVALUATION_USERS',
  )
    .default(DEFAULTS.maxEvaluationUsers)
    .argParser(int(1, 1_000_000)),
]

/** How updates are bounded and averaged, and how the server steps the model. */
const aggregationOptions = (): Option[] => [
  opt(
    '--max-update-norm <norm>',
    "bound on the L2 norm of one client update; 'none' turns it off",
    'FEDREC_MAX_UPDATE_NORM',
  )
    .default(DEFAULTS.maxUpdateNorm)
    .argParser((value: string) =>
      value.trim() === 'none' ? Number.POSITIVE_INFINITY : num(0, { exclusive: true })(value),
    ),
  opt(
    '--max-row-norm <norm>',
    'robust aggregation: clip each item row of an update (embedding and bias) to this L2 norm (default: off)',
    'FEDREC_MAX_ROW_NORM',
  ).argParser(num(0, { exclusive: true })),
  opt(
    '--norm-policy <policy>',
    'an update above --max-update-norm is scaled down to it (clip) or refused (reject)',
    'FEDREC_NORM_POLICY',
  )
    .default(DEFAULTS.normPolicy)
    .choices(['clip', 'reject']),
  opt('--server-optimizer <name>', 'server optimizer', 'FEDREC_SERVER_OPTIMIZER')
    .default(DEFAULTS.serverOptimizer)
    .choices(SERVER_OPTIMIZERS),
  opt(
    '--server-lr <lr>',
    'server learning rate η (default: 1 for fedavg and fedavgm — 1 with fedavg is plain FedAvg —, 0.01 for the adaptive optimizers)',
    'FEDREC_SERVER_LR',
  ).argParser(num(0, { exclusive: true })),
  opt(
    '--row-normalization <mode>',
    'divide a row by the samples of all clients or only of those that touched it',
    'FEDREC_ROW_NORMALIZATION',
  )
    .default(DEFAULTS.rowNormalization, `${DEFAULTS.rowNormalization}; all with DP`)
    .choices(['all', 'touched']),
  opt(
    '--item-row-floor <clients>',
    `under 'touched': divide an item row by no less than this many mean clients' weight, so a product one or two shoppers touched moves by a share of their delta (default ${DEFAULT_ITEM_ROW_FLOOR} with item features, 0 — plain 'touched' — without; docs/simulator.md)`,
    'FEDREC_ITEM_ROW_FLOOR',
  ).argParser(num(0)),
]

/** DP-FedAvg and secure aggregation. */
const privacyOptions = (): Option[] => [
  opt(
    '--dp-noise-multiplier <sigma>',
    "DP-FedAvg: Gaussian noise σ·S on every coordinate of each round's sum, with ε reported on /v1/status (default: DP off; docs/privacy.md)",
    'FEDREC_DP_NOISE_MULTIPLIER',
  ).argParser(num(0, { exclusive: true })),
  opt('--dp-clip-norm <S>', 'DP-FedAvg: L2 bound S of one client update', 'FEDREC_DP_CLIP_NORM')
    .default(DEFAULTS.dpClipNorm)
    .argParser(num(0, { exclusive: true })),
  opt('--dp-delta <delta>', 'DP-FedAvg: the δ at which ε is reported', 'FEDREC_DP_DELTA')
    .default(DEFAULTS.dpDelta)
    .argParser(num(0, { exclusive: true, max: 0.5 })),
  opt(
    '--dp-population <n>',
    'DP-FedAvg: estimated number of shoppers; ε then assumes each round samples q = --min-clients / n of them (default: q = 1, no amplification)',
    'FEDREC_DP_POPULATION',
  ).argParser(int(1)),
  opt(
    '--secure-aggregation',
    'secure aggregation (Bonawitz et al. 2017): clients join cohorts and upload masked vectors whose sum alone the aggregator can unmask; plain updates are refused (docs/aggregator.md)',
    'FEDREC_SECURE_AGGREGATION',
  ),
  opt(
    '--secagg-min-cohort <n>',
    'secure aggregation: members a cohort needs to start',
    'FEDREC_SECAGG_MIN_COHORT',
  )
    .default(SECAGG_DEFAULTS.minCohort)
    .argParser(int(3, SECAGG_MAX_COHORT)),
  opt(
    '--secagg-max-cohort <n>',
    'secure aggregation: a cohort that reaches this many members starts at once (at most 255)',
    'FEDREC_SECAGG_MAX_COHORT',
  )
    .default(SECAGG_DEFAULTS.maxCohort)
    .argParser(int(3, SECAGG_MAX_COHORT)),
  opt(
    '--secagg-threshold <t>',
    'secure aggregation: smallest t of the t-of-n secret sharing (survivors needed to unmask); a cohort of n uses max(t, ⌊n/2⌋+1) (default: ⌊min-cohort/2⌋+1)',
    'FEDREC_SECAGG_THRESHOLD',
  ).argParser(int(2, SECAGG_MAX_COHORT)),
  opt(
    '--secagg-phase-timeout <seconds>',
    'secure aggregation: each phase of a cohort ends at the latest this long after it began (a cohort left with too few members then aborts)',
    'FEDREC_SECAGG_PHASE_TIMEOUT',
  )
    .default(SECAGG_DEFAULTS.phaseTimeoutSeconds)
    .argParser(num(0, { exclusive: true, max: 86_400 })),
]

/** HTTP limits, how long the store keeps acks and model changes, and the operator token. */
const serviceOptions = (): Option[] => [
  opt(
    '--cors-origin <origins>',
    'comma-separated origins allowed to call the API; * for any',
    'FEDREC_CORS_ORIGIN',
  ).default('*'),
  opt('--max-body-bytes <n>', 'largest request body', 'FEDREC_MAX_BODY_BYTES')
    .default(DEFAULT_MAX_BODY_BYTES)
    .argParser(int(1)),
  opt('--client-rate <n>', 'updates a minute one client may send; 0 = no limit', 'FEDREC_CLIENT_RATE')
    .default(DEFAULT_CLIENT_RATE)
    .argParser(int(0)),
  opt(
    '--ip-rate <n>',
    'updates (and, separately, evaluation reports) a minute from one remote address; 0 = no limit (behind a proxy every client shares its address)',
    'FEDREC_IP_RATE',
  )
    .default(DEFAULT_IP_RATE)
    .argParser(int(0)),
  opt(
    '--ack-retention <seconds>',
    'how long the acks of closed rounds are kept for late retries',
    'FEDREC_ACK_RETENTION',
  )
    .default(DEFAULTS.ackRetentionSeconds)
    .argParser(num(0, { max: MAX_DURATION_SECONDS })),
  opt(
    '--model-log <versions>',
    'keep the changed rows of this many model versions, so clients that far behind download only what changed; 0 = always the whole model',
    'FEDREC_MODEL_LOG',
  )
    .default(DEFAULTS.modelLogVersions)
    .argParser(int(0, 100_000)),
  opt(
    '--operator-token <token>',
    'bearer token of the operator endpoints (default: a random one, printed to stderr)',
    'FEDREC_OPERATOR_TOKEN',
  ),
]

/**
 * Every option of the CLI, each also read from its FEDREC_* environment variable.
 * @example for (const option of cliOptions()) command.addOption(option)
 */
export const cliOptions = (): Option[] => [
  ...serveOptions(),
  ...roundOptions(),
  ...aggregationOptions(),
  ...privacyOptions(),
  ...serviceOptions(),
]
