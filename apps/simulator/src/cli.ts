#!/usr/bin/env tsx
// `npm run simulate -- --dataset movielens --path u.data --rounds 40 --out r.json`. See --help.
import { writeFileSync } from 'node:fs'
import { isServerOptimizerName, SERVER_OPTIMIZERS } from '@fedrec/core'
import { MultiBar, Presets } from 'cli-progress'
import { Command, InvalidArgumentError, Option } from 'commander'
import { renderChart } from './chart.ts'
import { DATASET_FORMATS, isDatasetFormat, loadDataset } from './datasets/index.ts'
import { useNodeBackend } from './node-backend.ts'
import { DEFAULTS, type SimulationOptions } from './options.ts'
import { simulate } from './simulate.ts'
import { leaveOneOut } from './split.ts'
import { formatRound, formatSummary, tableHeader } from './table.ts'

const int =
  (min: number) =>
  (value: string): number => {
    const n = Number(value)
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got ${JSON.stringify(value)}`)
    return n
  }
const num =
  (min: number, exclusive: boolean) =>
  (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || n < min || (exclusive && n === min))
      throw new InvalidArgumentError(
        `expected a number ${exclusive ? '>' : '≥'} ${min}, got ${JSON.stringify(value)}`,
      )
    return n
  }

function createCommand(): Command {
  return new Command('fedrec-simulate')
    .description(
      'Simulates many shoppers training the fedrec model on a real data set, with the same core code as the browser,\n' +
        'and measures federated HR@10 / NDCG@10 per round against the centralized model and popularity.\n' +
        'Logs: DEBUG=fedrec:simulator:*',
    )
    .addOption(
      new Option('--dataset <format>', 'data-set format').choices(DATASET_FORMATS).makeOptionMandatory(),
    )
    .requiredOption('--path <file>', 'the data-set file')
    .option('--rounds <n>', 'federated rounds', int(1), DEFAULTS.rounds)
    .option(
      '--clients-per-round <n>',
      "shoppers sampled per round, or 'all' (in-process; over HTTP the aggregator's --min-clients)",
      (v: string) => (v === 'all' ? 'all' : int(1)(v)),
      DEFAULTS.clientsPerRound,
    )
    .option('--local-epochs <n>', 'local epochs per round', int(1), DEFAULTS.localEpochs)
    .option('--learning-rate <lr>', 'client learning rate (Adam)', num(0, true), DEFAULTS.learningRate)
    .option('--mu <mu>', 'FedProx μ (0 = FedAvg)', num(0, false), DEFAULTS.mu)
    .option('--batch-size <n>', 'client batch size', int(1), DEFAULTS.batchSize)
    .option('--l2 <l2>', 'L2 on the trained embedding rows', num(0, false), DEFAULTS.l2)
    .option('--context-length <n>', "recent items in a shopper's state", int(1), DEFAULTS.contextLength)
    .option('--recency <r>', 'weight of each step back in time, (0, 1]', num(0, true), DEFAULTS.recency)
    .option('--private-vector', 'keep and train a private per-device vector as well')
    .option(
      '--max-targets <n>',
      'next-item examples per shopper and round, at most',
      int(1),
      DEFAULTS.maxTargets,
    )
    .option(
      '--negatives <n>',
      'sampled negatives per positive in training',
      int(1),
      DEFAULTS.negativesPerPositive,
    )
    .addOption(
      new Option('--server-optimizer <name>', 'server optimizer')
        .choices(SERVER_OPTIMIZERS)
        .default(DEFAULTS.serverOptimizer),
    )
    .option(
      '--server-lr <lr>',
      'server learning rate η (default 1 for fedavg/fedavgm, 0.01 for the adaptive ones)',
      num(0, true),
    )
    .addOption(
      new Option(
        '--row-normalization <mode>',
        'divide a row by the samples of all clients or of those that touched it',
      )
        .choices(['all', 'touched'])
        .default(DEFAULTS.rowNormalization),
    )
    .option('--dim <n>', 'embedding dimension', int(1), DEFAULTS.dim)
    .option(
      '--eval-negatives <n>',
      'negatives each held-out item is ranked against',
      int(1),
      DEFAULTS.evalNegatives,
    )
    .option('--seed <n>', 'seed: same seed, same numbers', int(0), DEFAULTS.seed)
    .option('--central-epochs <n>', 'epochs of the centralized baseline', int(1), DEFAULTS.centralEpochs)
    .option(
      '--central-lr <lr>',
      'learning rate of the centralized baseline',
      num(0, true),
      DEFAULTS.centralLearningRate,
    )
    .option('--central-l2 <l2>', 'L2 of the centralized baseline', num(0, false), DEFAULTS.centralL2)
    .option(
      '--pad-ratio <r>',
      'row padding: pseudo-items per real item in every upload (0 = off; in-process)',
      num(0, false),
      DEFAULTS.padRatio,
    )
    .option('--pad-fresh', "draw a shopper's pseudo-items anew every round (default: fixed per shopper)")
    .option('--pad-uniform', "draw pseudo-items uniformly, not from the model's prediction (comparison)")
    .addOption(
      new Option(
        '--update-dtype <dtype>',
        'float type of the uploaded deltas (in-process; over HTTP the aggregator decides)',
      )
        .choices(['f16', 'f32'])
        .default(DEFAULTS.updateDtype),
    )
    .option('--attack', "run the curious aggregator's attacks on every upload (in-process)")
    .option(
      '--dp-noise-multiplier <sigma>',
      'DP-FedAvg noise multiplier σ (in-process; default: DP off; needs --row-normalization all, the default under DP)',
      num(0, true),
    )
    .option('--dp-clip-norm <S>', 'DP-FedAvg clip norm S of one update', num(0, true), DEFAULTS.dpClipNorm)
    .option('--dp-delta <delta>', 'the δ at which ε is reported', num(0, true), DEFAULTS.dpDelta)
    .option(
      '--max-row-norm <x>',
      "clip each item row of every upload to this L2 norm, as the aggregator's --max-row-norm (in-process; default: none)",
      num(0, true),
    )
    .option(
      '--max-update-norm <x>',
      "clip every upload to this L2 norm, as the aggregator's --max-update-norm (in-process; default: none)",
      num(0, true),
    )
    .option('--secure-aggregation', 'mask every upload with secure aggregation (Bonawitz et al.; in-process)')
    .option(
      '--secagg-dropout <p>',
      'with --secure-aggregation: probability a participant drops out after sharing its keys',
      num(0, false),
      DEFAULTS.secaggDropout,
    )
    .option(
      '--endpoint <url>',
      'a running aggregator: every shopper speaks the wire protocol (default: in-process)',
    )
    .option(
      '--write-catalogue <file>',
      "write the data set's item ids as an aggregator --catalogue file, then exit",
    )
    .option('--out <file>', 'JSON results file')
    .option('--chart <file>', 'SVG chart (default: --out with .svg)')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(['wasm', 'cpu']).default('wasm'))
    .option('--quiet', 'no progress bar, table or summary')
    .showHelpAfterError('(run with --help for every option)')
}

async function main(): Promise<void> {
  const command = createCommand().parse(process.argv)
  const o = command.opts<Record<string, unknown>>()
  const dataset = o.dataset
  if (!isDatasetFormat(dataset)) throw new InvalidArgumentError(`unknown data-set format ${String(dataset)}`)
  const path = String(o.path)
  if (typeof o.writeCatalogue === 'string') {
    const split = leaveOneOut(loadDataset(dataset, path), { negatives: 1, seed: 0 })
    writeFileSync(o.writeCatalogue, `${JSON.stringify(split.itemIds)}\n`)
    process.stderr.write(`wrote ${split.itemIds.length} item ids to ${o.writeCatalogue}\n`)
    return
  }
  const serverOptimizer = o.serverOptimizer
  if (!isServerOptimizerName(serverOptimizer)) throw new InvalidArgumentError('unknown server optimizer')
  const options: SimulationOptions = {
    dataset,
    path,
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
  if (options.dpNoiseMultiplier !== undefined && options.endpoint !== undefined)
    throw new InvalidArgumentError(
      '--dp-noise-multiplier is for in-process runs; over HTTP start the aggregator with its --dp-* flags',
    )
  const quiet = o.quiet === true
  const { tf, backend } = await useNodeBackend(o.backend === 'cpu' ? ['cpu'] : ['wasm', 'cpu'])
  const print = (line: string) => {
    if (!quiet) process.stdout.write(`${line}\n`)
  }
  const bars =
    !quiet && process.stderr.isTTY
      ? new MultiBar(
          {
            stream: process.stderr,
            clearOnComplete: true,
            hideCursor: true,
            format: ' {phase} [{bar}] {value}/{total} | {eta_formatted} left',
          },
          Presets.shades_classic,
        )
      : undefined
  let bar: ReturnType<MultiBar['create']> | undefined
  let perRound = false
  const line = (text: string) => (bars ? bars.log(`${text}\n`) : print(text))
  print(
    `backend ${backend}; ${options.endpoint ? `aggregator ${options.endpoint}` : 'in-process aggregation'}`,
  )
  const results = await simulate(tf, backend, options, {
    phase(name, total) {
      if (name === 'federated') {
        // Over HTTP the round size is the aggregator's quorum, unknown here: the bar counts rounds then.
        perRound = total === undefined
        bar = bars?.create(total ?? options.rounds, 0, { phase: name })
        line(tableHeader(options.attack))
      } else if (!bars) print(`… ${name}`)
      bar?.update({ phase: name })
    },
    client: () => {
      if (!perRound) bar?.increment()
    },
    round: (r) => {
      if (perRound) bar?.increment()
      line(formatRound(r))
    },
    warn: (message) => process.stderr.write(`warning: ${message}\n`),
  })
  bars?.stop()
  print('')
  print(formatSummary(results))
  if (typeof o.out === 'string') {
    writeFileSync(o.out, `${JSON.stringify(results, null, 2)}\n`)
    const chart = typeof o.chart === 'string' ? o.chart : `${o.out.replace(/\.json$/i, '')}.svg`
    writeFileSync(chart, renderChart(results))
    print(`results: ${o.out}; chart: ${chart}`)
  } else if (typeof o.chart === 'string') {
    writeFileSync(o.chart, renderChart(results))
  }
}

main().catch((err: unknown) => {
  const coded = err instanceof Error && 'code' in err
  const message = err instanceof Error ? (coded ? err.message : (err.stack ?? err.message)) : String(err)
  process.stderr.write(`fedrec simulate: ${message}\n`)
  process.exit(1)
})
