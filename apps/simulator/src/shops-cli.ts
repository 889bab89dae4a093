// `--shops <rule>`: the CLI's path for the shops experiment (shops-run.ts) instead of the one-shop run.
import { readFileSync } from 'node:fs'
import type * as TF from '@tensorflow/tfjs-core'
import { itemsFileBeside, loadDataset, loadItemMeta } from './datasets/index.ts'
import { customerCountries } from './datasets/online-retail-countries.ts'
import { SimulationError } from './errors.ts'
import { DEFAULTS, type SimulationOptions } from './options.ts'
import type { Progress } from './round-record.ts'
import { parseShopRule, splitEachShop, splitShops } from './shops.ts'
import { runShops, type ShopsResults } from './shops-run.ts'

/**
 * Loads the data set and its item metadata, cuts it into two shops by `rule` (shops.ts) and runs the
 * experiment. In process only: the shops share one in-process aggregator.
 * @throws SimulationError for a rule the data set cannot serve, or a flag the experiment does not support
 * @example const r = await simulateShops(tf, options, 'country')
 */
export async function simulateShops(
  tf: typeof TF,
  options: SimulationOptions,
  ruleText: string,
  progress: Progress = {},
): Promise<ShopsResults & { rule: string }> {
  const rule = parseShopRule(ruleText)
  for (const [flag, on] of [
    ['--endpoint', options.endpoint !== undefined],
    ['--attack', options.attack],
    ['--secure-aggregation', options.secureAggregation === true],
    ['--dp-noise-multiplier', options.dpNoiseMultiplier !== undefined],
    ['--item-features off (the control is run anyway)', options.itemFeatures === 'off'],
    ['--cold-items', (options.coldItems ?? 0) > 0],
  ] as const) {
    if (on) throw new SimulationError('bad_option', `--shops runs in process without ${flag}`)
  }
  progress.phase?.('loading')
  const data = loadDataset(options.dataset, options.path)
  const itemsPath = options.items ?? itemsFileBeside(options.dataset, options.path)
  const catalogue = itemsPath === undefined ? undefined : loadItemMeta(options.dataset, itemsPath)
  const countryOf =
    rule.kind === 'country' && options.dataset === 'online-retail'
      ? customerCountries(readFileSync(options.path, 'utf8'), options.path)
      : undefined
  const shops = splitShops(data, rule, {
    ...(countryOf ? { countryOf } : {}),
    ...(catalogue ? { catalogue } : {}),
  })
  const [large, small] = splitEachShop(shops, catalogue, {
    negatives: options.evalNegatives,
    seed: options.seed,
  })
  const results = await runShops(
    tf,
    [large!, small!],
    options,
    options.featureRows ?? DEFAULTS.featureRows,
    progress,
  )
  return { rule: ruleText, ...results }
}
