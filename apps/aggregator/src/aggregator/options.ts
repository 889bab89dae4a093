import type { RowNormalization, ServerOptimizerName } from '@fedrec/core'
import type { NormPolicy } from './norm-bound.ts'

/**
 * Everything `createAggregator` needs. Only `store` is required; the defaults are the CLI's.
 * @example const options: AggregatorOptions = { store: ':memory:', catalogue: ['sku-1', 'sku-2'], minClients: 2 }
 */
export interface AggregatorOptions {
  /** SQLite file (its directory is created), or `':memory:'` for tests. */
  store: string
  /**
   * Create the store when the file does not exist (default true for the library; the CLI passes it only
   * with `--init`, or for its default path). A missing store without it is a StartupError.
   */
  createStore?: boolean
  /**
   * Item ids. A fresh store's model starts with them; on an existing store, ids it does not know yet are
   * queued and join the model when the current round closes.
   */
  catalogue?: readonly string[]
  /** Embedding width of a fresh model (default 32); an existing store must have the same if it is given. */
  dim?: number
  /** Seed of the initialisation of a fresh model and of rows added later (default: random, kept in the store). */
  seed?: number
  /** Quorum: the round closes as soon as this many updates are accepted (default 3). */
  minClients?: number
  /** A round closes at the latest this many seconds after it opened (default 300). */
  roundDeadlineSeconds?: number
  /** Client training settings handed out in every RoundInfo. */
  mu?: number
  localEpochs?: number
  learningRate?: number
  negativesPerPositive?: number
  batchSize?: number
  /** Largest n_k accepted from one client (default 100,000). */
  maxSampleCount?: number
  /**
   * Largest `users` one evaluation report may claim (default 1: a client — the simulator today — reports one
   * shopper per report). Reports are unauthenticated, so one claiming many users would outweigh the rest.
   */
  maxEvaluationUsers?: number
  /** Bound on the L2 norm of one client's update (default Infinity: no bound). */
  maxUpdateNorm?: number
  /** What happens to an update above `maxUpdateNorm` (default 'clip'). */
  normPolicy?: NormPolicy
  /**
   * How long the acks of a closed round are kept for late retries, in seconds (default 86,400). Older ones
   * are pruned when a round closes, so the store does not grow with every update ever received.
   */
  ackRetentionSeconds?: number
  serverOptimizer?: ServerOptimizerName
  /**
   * η of the server optimizer. Default: the optimizer's own — 1 for fedavg and fedavgm (1 with fedavg is
   * plain FedAvg), 0.01 for fedadam, fedyogi and fedadagrad, whose steps do not scale with the delta.
   */
  serverLearningRate?: number | undefined
  rowNormalization?: RowNormalization
  /** Milliseconds since the epoch; injectable so tests can move time. */
  now?: () => number
  /** Close rounds on their deadline with a timer (default true); tests may call `checkDeadline()` instead. */
  deadlineTimer?: boolean
}

/** The options with every default filled in. */
export type ResolvedOptions = Required<
  Omit<AggregatorOptions, 'catalogue' | 'dim' | 'seed' | 'serverLearningRate'>
> &
  Pick<AggregatorOptions, 'catalogue' | 'dim' | 'seed' | 'serverLearningRate'>

/** The CLI's defaults, in one place. */
export const DEFAULTS = {
  minClients: 3,
  roundDeadlineSeconds: 300,
  mu: 0,
  // Measured on the e2e shop pattern (six shoppers, three tastes, four rounds; a Node replay of the same
  // pipeline, five seeds): 2 epochs at 0.05 left the worst shopper's top 10 at 40-60 % in its favourite
  // category, 5 at 0.1 at 70-90 %. Small histories make one batch per epoch, so epochs are Adam steps.
  localEpochs: 5,
  learningRate: 0.1,
  negativesPerPositive: 4,
  batchSize: 256,
  maxSampleCount: 100_000,
  maxEvaluationUsers: 1,
  maxUpdateNorm: Number.POSITIVE_INFINITY,
  normPolicy: 'clip',
  ackRetentionSeconds: 86_400,
  serverOptimizer: 'fedavg',
  rowNormalization: 'all',
} as const satisfies Partial<AggregatorOptions>

/** Fills in the defaults. */
export function resolveOptions(options: AggregatorOptions): ResolvedOptions {
  return {
    ...DEFAULTS,
    now: Date.now,
    deadlineTimer: true,
    createStore: true,
    ...withoutUndefined(options),
    store: options.store,
  }
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
