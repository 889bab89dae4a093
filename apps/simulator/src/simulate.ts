import { createScorer, type SharedWeights } from '@fedrec/core'
import type * as TF from '@tensorflow/tfjs-core'
import { trainCentralized } from './centralized.ts'
import { loadDataset } from './datasets/index.ts'
import { SimulationError } from './errors.ts'
import { evaluateAll, type Metrics, means, recallAt20, scoreRow } from './evaluate.ts'
import { runFederated } from './federated.ts'
import { runFederatedHttp } from './http-federated.ts'
import type { SimulationOptions } from './options.ts'
import { popularityWeights } from './popularity.ts'
import type { Progress, RoundRecord } from './round-record.ts'
import { leaveOneOut, type SplitDataset } from './split.ts'

/** The JSON results file. */
export interface SimulationResults {
  settings: SimulationOptions & { backend: string; mode: 'in-process' | 'http' }
  dataset: SplitDataset['counts'] & { format: string; path: string; skipped: Record<string, number> }
  federated: {
    rounds: RoundRecord[]
    /** The last round's federated metrics (what the run ends with). */
    hr10: number
    ndcg10: number
    /** The round with the best validation HR@10, and its test metrics. */
    bestByValidation: { round: number; hr10: number; ndcg10: number }
    recall20?: number
  }
  centralized: Metrics & {
    bestEpoch: number
    epochs: { epoch: number; loss: number; hr10: number; ndcg10: number; validationHr10: number }[]
    recall20?: number
  }
  popularity: Metrics & { recall20?: number }
  ratios: { federatedOverCentralized: number; centralizedOverPopularity: number }
  targets: { federatedAtLeast095Centralized: boolean; centralizedAtLeast12Popularity: boolean }
  timing: {
    wallSeconds: number
    federatedSeconds: number
    centralizedSeconds: number
    shopperUpdates: number
    shopperUpdatesPerSecond: number
  }
}

/**
 * One whole run: load, split, popularity, centralized, federated (in-process or over HTTP), Recall@20.
 * @example const results = await simulate(tf, 'wasm', options, { round: (r) => console.info(r) })
 */
export async function simulate(
  tf: typeof TF,
  backend: string,
  options: SimulationOptions,
  progress: Progress = {},
): Promise<SimulationResults> {
  const started = performance.now()
  checkOptions(options)
  progress.phase?.('loading')
  const data = loadDataset(options.dataset, options.path)
  const split = leaveOneOut(data, { negatives: options.evalNegatives, seed: options.seed })

  progress.phase?.('popularity')
  const pop = popularityWeights(split, options.dim)
  const zero = new Float32Array(options.dim)
  const popularity = means(evaluateAll(split, () => (row) => scoreRow(pop, zero, row)))

  progress.phase?.('centralized')
  const centralStarted = performance.now()
  const central = trainCentralized(split, {
    epochs: options.centralEpochs,
    learningRate: options.centralLearningRate,
    batchSize: options.batchSize,
    negativesPerPositive: options.negativesPerPositive,
    dim: options.dim,
    seed: options.seed,
  })
  const centralizedSeconds = (performance.now() - centralStarted) / 1000

  const trainers = split.users.filter((u) => u.train.length > 0).length
  const perRound = options.clientsPerRound === 'all' ? trainers : Math.min(trainers, options.clientsPerRound)
  progress.phase?.('federated', options.endpoint ? undefined : options.rounds * perRound)
  const fed = options.endpoint
    ? await runFederatedHttp(tf, split, { ...options, endpoint: options.endpoint }, progress)
    : await runFederated(tf, split, options, progress)

  let recall: { federated: number; centralized: number; popularity: number } | undefined
  if (options.recall) {
    progress.phase?.('recall@20')
    const zeroVec = new Float32Array(options.dim)
    recall = {
      federated: await withScorer(tf, fed.weights, (s) =>
        recallAt20(split, s, (_, i) => fed.userVectors[i] ?? zeroVec),
      ),
      centralized: await withScorer(tf, central.weights, (s) =>
        recallAt20(split, s, (_, i) => central.userVectors[i]!),
      ),
      popularity: await withScorer(tf, pop, (s) => recallAt20(split, s, () => zeroVec)),
    }
  }

  const last = fed.rounds[fed.rounds.length - 1]!
  const best = fed.rounds.reduce((a, r) => (r.validation.hr10 > a.validation.hr10 ? r : a), fed.rounds[0]!)
  const wallSeconds = (performance.now() - started) / 1000
  return {
    settings: { ...options, backend, mode: options.endpoint ? 'http' : 'in-process' },
    dataset: { ...split.counts, format: data.format, path: data.path, skipped: data.skipped },
    federated: {
      rounds: fed.rounds,
      hr10: last.hr10,
      ndcg10: last.ndcg10,
      bestByValidation: { round: best.round, hr10: best.hr10, ndcg10: best.ndcg10 },
      ...(recall ? { recall20: recall.federated } : {}),
    },
    centralized: {
      ...central.test,
      bestEpoch: central.bestEpoch,
      epochs: central.epochs.map((e) => ({
        epoch: e.epoch,
        loss: e.loss,
        hr10: e.test.hr10,
        ndcg10: e.test.ndcg10,
        validationHr10: e.validation.hr10,
      })),
      ...(recall ? { recall20: recall.centralized } : {}),
    },
    popularity: { ...popularity, ...(recall ? { recall20: recall.popularity } : {}) },
    ratios: {
      federatedOverCentralized: ratio(last.hr10, central.test.hr10),
      centralizedOverPopularity: ratio(central.test.hr10, popularity.hr10),
    },
    targets: {
      federatedAtLeast095Centralized: last.hr10 >= 0.95 * central.test.hr10,
      centralizedAtLeast12Popularity: central.test.hr10 >= 1.2 * popularity.hr10,
    },
    timing: {
      wallSeconds,
      federatedSeconds: fed.trainSeconds,
      centralizedSeconds,
      shopperUpdates: fed.shopperUpdates,
      shopperUpdatesPerSecond: fed.trainSeconds > 0 ? fed.shopperUpdates / fed.trainSeconds : 0,
    },
  }
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0)

async function withScorer<T>(
  tf: typeof TF,
  weights: SharedWeights,
  f: (scorer: ReturnType<typeof createScorer>) => Promise<T>,
): Promise<T> {
  const scorer = createScorer(tf, weights)
  try {
    return await f(scorer)
  } finally {
    scorer.dispose()
  }
}

function checkOptions(o: SimulationOptions): void {
  const bad = (what: string, value: unknown) => {
    throw new SimulationError('bad_option', `${what}, got ${String(value)}`)
  }
  if (o.clientsPerRound !== 'all' && !(Number.isInteger(o.clientsPerRound) && o.clientsPerRound >= 1)) {
    bad("clientsPerRound must be 'all' or an integer >= 1", o.clientsPerRound)
  }
  for (const key of [
    'rounds',
    'localEpochs',
    'batchSize',
    'negativesPerPositive',
    'dim',
    'evalNegatives',
    'centralEpochs',
  ] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) bad(`${key} must be an integer >= 1`, o[key])
  }
  for (const key of ['learningRate', 'centralLearningRate'] as const) {
    if (!(Number.isFinite(o[key]) && o[key] > 0)) bad(`${key} must be > 0`, o[key])
  }
  if (!(Number.isFinite(o.mu) && o.mu >= 0)) bad('mu must be >= 0', o.mu)
  if (!(Number.isFinite(o.padRatio) && o.padRatio >= 0)) bad('padRatio must be a number >= 0', o.padRatio)
  // Over HTTP the clients pad as the aggregator's round config says, like browsers do.
  if (o.endpoint !== undefined && o.padRatio > 0)
    bad("padRatio is the aggregator's setting over HTTP (start it with --pad-ratio)", o.padRatio)
  // Checked here, before the data set and the centralized baseline take minutes, not at the first request.
  if (o.endpoint !== undefined && !isHttpUrl(o.endpoint))
    bad('endpoint must be an http(s) URL such as http://127.0.0.1:8787/', o.endpoint)
}

function isHttpUrl(text: string): boolean {
  try {
    return /^https?:$/.test(new URL(text).protocol)
  } catch {
    return false
  }
}
