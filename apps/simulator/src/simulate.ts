// One simulator run, from data set to results (the JSON the CLI writes), shared by the CLI and the library.
import { type SharedWeights, sequenceSettingsOf } from '@fedrec/core/client'
import { itemRowFloorOf } from '@fedrec/core/server'
import type * as TF from '@tensorflow/tfjs-core'
import { evaluateBaselines, popularityCounts, randomScores, tuneCooccurrence } from './baselines.ts'
import { runItemFeatures } from './catalogue-features.ts'
import { trainCentralized } from './centralized.ts'
import { type ColdStartResults, evaluateColdStart } from './cold-eval.ts'
import { coldStartSplit } from './cold-split.ts'
import { itemsFileBeside, loadDataset, loadItemMeta } from './datasets/index.ts'
import { SimulationError } from './errors.ts'
import {
  type CatalogueScores,
  evaluateFull,
  type FullMetrics,
  type Metrics,
  modelScores,
  shopperQuery,
} from './evaluate.ts'
import { runFederated } from './federated.ts'
import { runFederatedHttp } from './http-federated.ts'
import { type ItemSummary, summariseItems } from './item-summary.ts'
import type { SimulationOptions } from './options.ts'
import { evaluateRerank, type RerankResults } from './rerank-eval.ts'
import type { Progress, RoundRecord } from './round-record.ts'
import { leaveOneOut, type SplitDataset } from './split.ts'

/** The JSON results file. */
export interface SimulationResults {
  settings: SimulationOptions & {
    backend: string
    mode: 'in-process' | 'http'
    /** Whether the models had item features (`--item-features`, default on where metadata was found). */
    featuresUsed: boolean
    /** The item-row floor the in-process aggregation used (`--item-row-floor`); null over HTTP. */
    itemRowFloorUsed: number | null
  }
  dataset: SplitDataset['counts'] & { format: string; path: string; skipped: Record<string, number> }
  federated: FullMetrics & {
    rounds: RoundRecord[]
    /** The round with the best validation HR@10 (1-based), and its test metrics. */
    bestByValidation: { round: number; hr10: number; ndcg10: number }
  }
  centralized: FullMetrics & {
    bestEpoch: number
    epochs: { epoch: number; loss: number; hr10: number; ndcg10: number; validationHr10: number }[]
  }
  random: FullMetrics
  popularity: FullMetrics
  recentPopularity: FullMetrics
  cooccurrence: FullMetrics & { recency: number }
  /** The item metadata read (absent when the data set has none beside it and `--items` was not given). */
  items?: ItemSummary
  /** New products (`--cold-items` with item features): the cold-start table. */
  coldStart?: ColdStartResults
  /** The held-out item in its category's list, in the shop's orders and re-ranked (data with categories). */
  rerank?: RerankResults
  ratios: {
    federatedOverCentralized: number
    federatedOverPopularity: number
    recallOverPopularity: number
    recallOverCooccurrence: number
  }
  targets: {
    federatedAtLeast097Centralized: boolean
    federatedAtLeast125Popularity: boolean
    recallAtLeast15Popularity: boolean
    recallAtLeast09Cooccurrence: boolean
  }
  /** Models within noise of random or popularity, said in words (also printed). */
  warnings: string[]
  timing: {
    wallSeconds: number
    federatedSeconds: number
    centralizedSeconds: number
    shopperUpdates: number
    shopperUpdatesPerSecond: number
  }
}

/**
 * One whole run: load, split, the baselines (random, popularity, recent popularity, co-occurrence), the same
 * model trained centrally, federated (in-process or over HTTP), then every model's full-ranking metrics.
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
  const itemsPath = options.items ?? itemsFileBeside(options.dataset, options.path)
  const catalogue = itemsPath === undefined ? undefined : loadItemMeta(options.dataset, itemsPath)
  const loo = leaveOneOut(data, { negatives: options.evalNegatives, seed: options.seed })
  const cold = options.coldItems === undefined ? undefined : coldStartSplit(data, loo, options.coldItems)
  const split: SplitDataset = cold ?? loo
  // Rows the models list while training: without --cold-listed the new products are added after it.
  const listed = cold && !options.coldListed ? cold.coldFrom : undefined
  const settings = sequenceSettingsOf(options)
  const itemFeatures = runItemFeatures(options, catalogue, split.itemIds)

  progress.phase?.('baselines')
  const popularityRows = popularityCounts(split)
  const tunedCooccurrence = tuneCooccurrence(split, popularityRows)
  const baselines = evaluateBaselines(split, options.seed, tunedCooccurrence)

  progress.phase?.('centralized')
  const centralStarted = performance.now()
  const central = trainCentralized(split, {
    epochs: options.centralEpochs,
    learningRate: options.centralLearningRate,
    negativesPerPositive: options.negativesPerPositive,
    l2: options.centralL2,
    dim: options.dim,
    seed: options.seed,
    settings,
    itemFeatures,
    ...(listed === undefined ? {} : { listed }),
  })
  const centralizedSeconds = (performance.now() - centralStarted) / 1000

  const trainers = split.users.filter((u) => u.train.length > 0).length
  const perRound = options.clientsPerRound === 'all' ? trainers : Math.min(trainers, options.clientsPerRound)
  progress.phase?.('federated', options.endpoint ? undefined : options.rounds * perRound)
  const fed = options.endpoint
    ? await runFederatedHttp(tf, split, { ...options, endpoint: options.endpoint }, progress)
    : await runFederated(tf, split, options, progress, { itemFeatures, ...(listed ? { listed } : {}) })

  progress.phase?.('full ranking')
  const modelScorer =
    (weights: SharedWeights, vectors?: (Float32Array | undefined)[]): CatalogueScores =>
    (user, index, which) =>
      modelScores(weights, shopperQuery(weights, user, which, settings, vectors?.[index]))
  const federatedScores = modelScorer(fed.weights, options.privateVector ? fed.userVectors : undefined)
  const federatedFull = evaluateFull(split, federatedScores)
  const centralizedFull = evaluateFull(split, modelScorer(central.weights))

  const categorised = catalogue && catalogue.categoryKind !== 'none' ? catalogue : undefined
  if (categorised) progress.phase?.('re-ranking')
  const rerank =
    categorised &&
    evaluateRerank(
      split,
      categorised,
      popularityRows,
      {
        'co-occurrence': tunedCooccurrence.scores,
        centralized: modelScorer(central.weights),
        federated: federatedScores,
      },
      { seed: options.seed },
    )

  // New products: the same federated run without item features beside the one with them.
  let coldStart: ColdStartResults | undefined
  if (cold && itemFeatures) {
    progress.phase?.('federated, id-only (cold start)', options.rounds * perRound)
    const idOnly = await runFederated(tf, split, options, progress, listed ? { listed } : {})
    progress.phase?.('cold start')
    coldStart = evaluateColdStart(
      cold,
      options.coldItems!,
      listed === undefined,
      {
        random: randomScores(split, options.seed),
        popularity: () => popularityRows,
        'id-only': modelScorer(idOnly.weights, options.privateVector ? idOnly.userVectors : undefined),
        features: federatedScores,
      },
      options.seed,
    )
  }

  const last = fed.rounds[fed.rounds.length - 1]!
  const best = fed.rounds.reduce((a, r) => (r.validation.hr10 > a.validation.hr10 ? r : a), fed.rounds[0]!)
  const federated = { ...federatedFull, hr10: last.hr10, ndcg10: last.ndcg10 }
  const centralized = { ...centralizedFull, ...central.test }
  const wallSeconds = (performance.now() - started) / 1000
  const { popularity, cooccurrence } = baselines
  return {
    settings: {
      ...options,
      backend,
      mode: options.endpoint ? 'http' : 'in-process',
      featuresUsed: itemFeatures !== undefined,
      itemRowFloorUsed: options.endpoint
        ? null
        : itemRowFloorOf({
            featureRows: itemFeatures === undefined ? undefined : options.featureRows,
            rowNormalization: options.rowNormalization,
            itemRowFloor: options.itemRowFloor,
          }),
    },
    dataset: { ...split.counts, format: data.format, path: data.path, skipped: data.skipped },
    federated: {
      ...federated,
      rounds: fed.rounds,
      bestByValidation: { round: best.round, hr10: best.hr10, ndcg10: best.ndcg10 },
    },
    centralized: {
      ...centralized,
      bestEpoch: central.bestEpoch,
      epochs: central.epochs.map((e) => ({
        epoch: e.epoch,
        loss: e.loss,
        hr10: e.test.hr10,
        ndcg10: e.test.ndcg10,
        validationHr10: e.validation.hr10,
      })),
    },
    ...baselines,
    ...(catalogue ? { items: summariseItems(catalogue, split) } : {}),
    ...(rerank ? { rerank } : {}),
    ...(coldStart ? { coldStart } : {}),
    ratios: {
      federatedOverCentralized: ratio(federated.hr10, centralized.hr10),
      federatedOverPopularity: ratio(federated.hr10, popularity.hr10),
      recallOverPopularity: ratio(federated.recall20, popularity.recall20),
      recallOverCooccurrence: ratio(federated.recall20, cooccurrence.recall20),
    },
    targets: {
      federatedAtLeast097Centralized: federated.hr10 >= 0.97 * centralized.hr10,
      federatedAtLeast125Popularity: federated.hr10 >= 1.25 * popularity.hr10,
      recallAtLeast15Popularity: federated.recall20 >= 1.5 * popularity.recall20,
      recallAtLeast09Cooccurrence: federated.recall20 >= 0.9 * cooccurrence.recall20,
    },
    warnings: noiseWarnings(
      split.counts.evalUsers,
      { federated, centralized },
      {
        random: baselines.random,
        popularity,
      },
    ),
    timing: {
      wallSeconds,
      federatedSeconds: fed.trainSeconds,
      centralizedSeconds,
      shopperUpdates: fed.shopperUpdates,
      shopperUpdatesPerSecond: fed.trainSeconds > 0 ? fed.shopperUpdates / fed.trainSeconds : 0,
    },
  }
}

/**
 * "Within noise": the two HR@10s differ by less than two standard errors of a proportion over the evaluated
 * shoppers, √(p(1−p)/n) at their mean p. A model there is no better than the baseline on this data.
 */
export function noiseWarnings(
  users: number,
  models: Record<string, Metrics>,
  baselines: Record<'random' | 'popularity', Metrics>,
): string[] {
  const warnings: string[] = []
  for (const [name, m] of Object.entries(models)) {
    for (const [base, b] of Object.entries(baselines)) {
      const p = (m.hr10 + b.hr10) / 2
      const noise = 2 * Math.sqrt((p * (1 - p)) / Math.max(1, users))
      if (m.hr10 - b.hr10 < noise) {
        warnings.push(
          `${name} HR@10 ${m.hr10.toFixed(4)} is within noise of ${base} ${b.hr10.toFixed(4)} (±${noise.toFixed(4)} at ${users} shoppers)`,
        )
      }
    }
  }
  return warnings
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0)

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
