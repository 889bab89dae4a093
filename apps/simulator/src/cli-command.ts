// The simulator's command-line flags: their parsers, help texts and defaults (commander).
import { DEFAULT_ITEM_ROW_FLOOR, SERVER_OPTIMIZERS } from '@fedrec/core/server'
import { Command, InvalidArgumentError, Option } from 'commander'
import { DATASET_FORMATS } from './datasets/index.ts'
import { DEFAULTS } from './options.ts'

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

/**
 * The simulator's command line. It stays one long chain on purpose: a flat, declarative list of options,
 * one call each, read top to bottom like the --help it prints; splitting it would only scatter the flags.
 * @example const options = createCommand().parse(process.argv).opts()
 */
export function createCommand(): Command {
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
    .option(
      '--items <file>',
      'item metadata (default: u.item beside u.data, items.csv beside a generic CSV, the Online Retail CSV itself)',
    )
    .addOption(
      new Option(
        '--item-features <on|off>',
        'item features (category, brand, price band, title words) in the model (default: on where item metadata is found, in-process, without --secure-aggregation)',
      ).choices(['on', 'off']),
    )
    .option('--feature-rows <F>', 'rows of the hashed feature table', int(1), DEFAULTS.featureRows)
    .addOption(
      new Option(
        '--negative-id-rows <on|off>',
        "with item features: 'on' (default) a sampled negative pushes down its own id row and bias too (plain BPR; untouched products drift down every round); 'off': negatives train the feature rows only",
      ).choices(['on', 'off']),
    )
    .option(
      '--cold-items <f>',
      'new products: the latest-introduced fraction f of the items leaves training and is added after it (in-process; with item features: the cold-start table)',
      (v: string) => {
        const f = num(0, true)(v)
        if (f >= 1) throw new InvalidArgumentError(`expected a fraction below 1, got ${JSON.stringify(v)}`)
        return f
      },
    )
    .option('--cold-listed', 'with --cold-items: list the new products during training (drawn as negatives)')
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
    .option(
      '--item-row-floor <clients>',
      `under 'touched': divide an item row by no less than this many mean shoppers' weight, so a product one or two shoppers touched moves by a share of their delta (default ${DEFAULT_ITEM_ROW_FLOOR} with item features, 0 — plain 'touched' — id-only)`,
      num(0, false),
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
      '--shops <rule>',
      'two shops learning together (in-process): country (Online Retail), time[:share] or category:<family>; prints the shops table',
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
