// The parsed command line as `SimulationOptions`, with the flag combinations that make no sense refused.
import { isServerOptimizerName } from '@fedrec/core/server'
import { type Command, InvalidArgumentError } from 'commander'
import type { DatasetFormat } from './datasets/index.ts'
import type { SimulationOptions } from './options.ts'

/**
 * The run's options from the parsed `command`; throws `InvalidArgumentError` for an in-process-only flag
 * over HTTP or a dropout of 1 or more.
 * @example const options = simulationOptionsOf(command, 'movielens', 'u.data')
 */
export function simulationOptionsOf(
  command: Command,
  dataset: DatasetFormat,
  path: string,
): SimulationOptions {
  const o = command.opts<Record<string, unknown>>()
  const serverOptimizer = o.serverOptimizer
  if (!isServerOptimizerName(serverOptimizer)) throw new InvalidArgumentError('unknown server optimizer')
  const options: SimulationOptions = {
    dataset,
    path,
    items: typeof o.items === 'string' ? o.items : undefined,
    itemFeatures: o.itemFeatures === 'on' || o.itemFeatures === 'off' ? o.itemFeatures : undefined,
    featureRows: Number(o.featureRows),
    negativeIdRows: o.negativeIdRows !== 'off',
    coldItems: o.coldItems === undefined ? undefined : Number(o.coldItems),
    coldListed: o.coldListed === true,
    rounds: Number(o.rounds),
    clientsPerRound: o.clientsPerRound === 'all' ? 'all' : Number(o.clientsPerRound),
    localEpochs: Number(o.localEpochs),
    learningRate: Number(o.learningRate),
    mu: Number(o.mu),
    batchSize: Number(o.batchSize),
    negativesPerPositive: Number(o.negatives),
    l2: Number(o.l2),
    contextLength: Number(o.contextLength),
    recency: Number(o.recency),
    privateVector: o.privateVector === true,
    maxTargets: Number(o.maxTargets),
    serverOptimizer,
    serverLearningRate: o.serverLr === undefined ? undefined : Number(o.serverLr),
    // DP cannot divide a row by who touched it (data-dependent): under DP the default is 'all'.
    rowNormalization:
      o.rowNormalization === 'all' ||
      (o.dpNoiseMultiplier !== undefined && command.getOptionValueSource('rowNormalization') === 'default')
        ? 'all'
        : 'touched',
    itemRowFloor: o.itemRowFloor === undefined ? undefined : Number(o.itemRowFloor),
    dim: Number(o.dim),
    evalNegatives: Number(o.evalNegatives),
    seed: Number(o.seed),
    centralEpochs: Number(o.centralEpochs),
    centralLearningRate: Number(o.centralLr),
    centralL2: Number(o.centralL2),
    padRatio: Number(o.padRatio),
    padFresh: o.padFresh === true,
    padUniform: o.padUniform === true,
    updateDtype: o.updateDtype === 'f32' ? 'f32' : 'f16',
    attack: o.attack === true,
    endpoint: typeof o.endpoint === 'string' ? o.endpoint : undefined,
    dpNoiseMultiplier: o.dpNoiseMultiplier === undefined ? undefined : Number(o.dpNoiseMultiplier),
    dpClipNorm: Number(o.dpClipNorm),
    dpDelta: Number(o.dpDelta),
    maxRowNorm: o.maxRowNorm === undefined ? undefined : Number(o.maxRowNorm),
    maxUpdateNorm: o.maxUpdateNorm === undefined ? undefined : Number(o.maxUpdateNorm),
    secureAggregation: o.secureAggregation === true,
    secaggDropout: Number(o.secaggDropout),
  }
  checkCombinations(command, options)
  return options
}

function checkCombinations(command: Command, options: SimulationOptions): void {
  const o = command.opts<Record<string, unknown>>()
  if (options.secureAggregation && options.endpoint !== undefined)
    throw new InvalidArgumentError(
      '--secure-aggregation is for in-process runs; over HTTP start the aggregator with --secure-aggregation',
    )
  if (!(Number(o.secaggDropout) < 1))
    throw new InvalidArgumentError(`--secagg-dropout must be below 1, got ${String(o.secaggDropout)}`)
  if (options.endpoint !== undefined && command.getOptionValueSource('updateDtype') !== 'default')
    throw new InvalidArgumentError(
      '--update-dtype is for in-process runs; over HTTP start the aggregator with --update-dtype',
    )
  if ((options.maxRowNorm ?? options.maxUpdateNorm) !== undefined && options.endpoint !== undefined)
    throw new InvalidArgumentError(
      '--max-row-norm and --max-update-norm are for in-process runs; over HTTP start the aggregator with them',
    )
  if (options.itemFeatures === 'on' && options.endpoint !== undefined)
    throw new InvalidArgumentError(
      "--item-features on is for in-process runs (over --endpoint the aggregator's store decides the model)",
    )
  if (options.coldItems !== undefined && options.endpoint !== undefined)
    throw new InvalidArgumentError('--cold-items is for in-process runs')
  if (options.coldListed && options.coldItems === undefined)
    throw new InvalidArgumentError('--cold-listed needs --cold-items')
  if (options.dpNoiseMultiplier !== undefined && options.endpoint !== undefined)
    throw new InvalidArgumentError(
      '--dp-noise-multiplier is for in-process runs; over HTTP start the aggregator with its --dp-* flags',
    )
}
