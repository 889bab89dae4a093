// Issue 18 part 4, the measurement: a small shop alone and federated together with a large one through one
// aggregator, with item features (the shared feature table is all they share) and id-only (the control).
import {
  createRng,
  featureRows,
  type ItemFeatures,
  initSharedWeights,
  itemTable,
  type SharedWeights,
  sequenceSettingsOf,
} from '@fedrec/core/client'
import type * as TF from '@tensorflow/tfjs-core'
import { popularityCounts, randomScores } from './baselines.ts'
import { bootstrapMean, type Interval } from './bootstrap.ts'
import {
  type CatalogueScores,
  evaluatePerShopper,
  type FullMetrics,
  modelScores,
  type PerShopperMetrics,
  shopperQuery,
} from './evaluate.ts'
import { runFederated } from './federated.ts'
import type { ShopView } from './federated-run.ts'
import type { SimulationOptions } from './options.ts'
import type { Progress } from './round-record.ts'
import { mixSeed } from './seeds.ts'
import { type SplitShop, unionOfShops } from './shops.ts'
import type { SplitDataset } from './split.ts'

/** The models of one shop's table: the shop's own baselines, then the federated model in four set-ups. */
export const SHOP_MODELS = [
  'random',
  'popularity',
  'alone, id only',
  'alone, features',
  'together, id only',
  'together, features',
] as const
export type ShopModel = (typeof SHOP_MODELS)[number]

/** Together minus alone for the same shoppers: mean and paired-bootstrap 95 % interval. */
export interface TransferGain {
  hr10: Interval
  recall20: Interval
  /** Shoppers whose held-out item entered (better) or left (worse) the top 10 of the sampled ranking. */
  hr10Changed: { better: number; worse: number }
}

export interface ShopResult {
  name: string
  counts: SplitDataset['counts']
  /** The shop's items with at least one feature string. */
  featuredItems: number
  /** Each model's means over the shop's evaluated shoppers; a model not run for this shop is absent. */
  models: Partial<Record<ShopModel, FullMetrics>>
  /** Together minus alone, with features (the transfer gain) and id-only (the control); absent: not run. */
  gain: { features?: TransferGain; idOnly?: TransferGain }
}

export interface ShopsResults {
  featureRows: number
  /** Distinct feature strings of each shop, and how many both shops' items carry. */
  featureStrings: { large: number; small: number; shared: number }
  /** Large shop first, then the small one. */
  shops: [ShopResult, ShopResult]
  /** Mean upload per participant in the last round (bytes), per run. */
  bytesUp: Record<string, number>
  seconds: number
}

/**
 * Runs the federated model five times on `[large, small]` and scores every shop on its own shoppers and its
 * own catalogue: the small shop alone (id-only, then with features), the large shop alone with features,
 * and both shops together through one aggregator (id-only, then with features). Together, each shopper's
 * device holds its own shop's id table and the shared feature table, draws its negatives from its own
 * catalogue, and uploads deltas of its shop's rows and the feature rows; the server averages rows as
 * always. Each shop's id table starts from a seed of its own and the small shop's shoppers come first, so
 * the small shop alone and together start from the same model and draw the same random numbers: the id-only
 * control differs from alone only by what the run shares between shops, which without features is nothing.
 * @example const r = await runShops(tf, [large, small], options, 4096); r.shops[1].gain.features?.hr10
 */
export async function runShops(
  tf: typeof TF,
  shops: readonly [SplitShop, SplitShop],
  options: SimulationOptions,
  numFeatures: number,
  progress: Progress = {},
): Promise<ShopsResults> {
  const started = performance.now()
  const [large, small] = shops
  const itemFeatures = shops.map((s) => featureRows(s.features, numFeatures))
  const settings = sequenceSettingsOf(options)
  const bytesUp: Record<string, number> = {}
  const perShopper = new Map<string, PerShopperMetrics>()
  // Runs the listed shops (by index into `shops`) together; each one's per-shopper metrics by run name.
  const run = async (name: string, members: number[], features: boolean) => {
    progress.phase?.(name)
    const memberShops = members.map((k) => shops[k]!)
    const { split, offsets, shopOfUser } = unionOfShops(
      memberShops.map((s) => s.split),
      memberShops.map((s) => s.name),
    )
    const weights = initialModel(
      memberShops,
      members,
      features ? itemFeatures : undefined,
      options,
      numFeatures,
    )
    const views = memberShops.map((s, j) => shopView(weights, offsets[j]!, s.split.itemIds.length))
    const featuresOfMember = members.map((k) => (features ? itemFeatures[k] : undefined))
    const shopOf = (index: number): ShopView => {
      const j = shopOfUser[index]!
      const f = featuresOfMember[j]
      return { ...views[j]!, ...(f ? { itemFeatures: f } : {}) }
    }
    const fed = await runFederated(tf, split, options, progress, { weights, shopOf })
    bytesUp[name] = fed.rounds[fed.rounds.length - 1]?.bytesUp ?? 0
    let firstUser = 0
    memberShops.forEach((shop, j) => {
      const f = featuresOfMember[j]
      const table = f ? itemTable(views[j]!.weights, f) : views[j]!.weights
      const offset = firstUser
      const scores: CatalogueScores = (user, index, which) =>
        modelScores(
          table,
          shopperQuery(
            table,
            user,
            which,
            settings,
            options.privateVector ? fed.userVectors[offset + index] : undefined,
          ),
        )
      perShopper.set(`${name}/${shop.name}`, evaluatePerShopper(shop.split, scores))
      firstUser += shop.split.users.length
    })
  }
  // Small shop first in every union: its shoppers keep their indices, hence their random streams.
  await run('small alone, id only', [1], false)
  await run('small alone, features', [1], true)
  await run('large alone, features', [0], true)
  await run('together, id only', [1, 0], false)
  await run('together, features', [1, 0], true)

  const results = shops.map((shop, k): ShopResult => {
    const who = k === 1 ? 'small' : 'large'
    const get = (run: string) => perShopper.get(`${run}/${shop.name}`)
    const aloneId = get(`${who} alone, id only`)
    const aloneFeatures = get(`${who} alone, features`)
    const togetherId = get('together, id only')!
    const togetherFeatures = get('together, features')!
    const popularity = popularityCounts(shop.split)
    const models: ShopResult['models'] = {
      random: meansOf(evaluatePerShopper(shop.split, randomScores(shop.split, options.seed))),
      popularity: meansOf(evaluatePerShopper(shop.split, () => popularity)),
      ...(aloneId ? { 'alone, id only': meansOf(aloneId) } : {}),
      ...(aloneFeatures ? { 'alone, features': meansOf(aloneFeatures) } : {}),
      'together, id only': meansOf(togetherId),
      'together, features': meansOf(togetherFeatures),
    }
    const gain = (together: PerShopperMetrics, alone: PerShopperMetrics | undefined, salt: number) =>
      alone && {
        hr10: pairedGain(together.hr10, alone.hr10, mixSeed(options.seed, 0x9a17, k, salt, 1)),
        recall20: pairedGain(together.recall20, alone.recall20, mixSeed(options.seed, 0x9a17, k, salt, 2)),
        hr10Changed: {
          better: together.hr10.filter((x, i) => x > alone.hr10[i]!).length,
          worse: together.hr10.filter((x, i) => x < alone.hr10[i]!).length,
        },
      }
    const features = gain(togetherFeatures, aloneFeatures, 1)
    const idOnly = gain(togetherId, aloneId, 2)
    return {
      name: shop.name,
      counts: shop.split.counts,
      featuredItems: shop.features.filter((f) => f.length > 0).length,
      models,
      gain: { ...(features ? { features } : {}), ...(idOnly ? { idOnly } : {}) },
    }
  }) as [ShopResult, ShopResult]
  const strings = (s: SplitShop) => new Set(s.features.flat())
  const largeStrings = strings(large)
  const smallStrings = strings(small)
  return {
    featureRows: numFeatures,
    featureStrings: {
      large: largeStrings.size,
      small: smallStrings.size,
      shared: [...smallStrings].filter((f) => largeStrings.has(f)).length,
    },
    shops: results,
    bytesUp,
    seconds: (performance.now() - started) / 1000,
  }
}

/**
 * The union model of the member shops: shop k's id table from a seed of its own (`key`, its place in the
 * data set's shops, so a shop starts alike alone and together), with features a feature table from the run's
 * seed (and the id rows of featured items at 0, as core starts them).
 */
function initialModel(
  members: readonly SplitShop[],
  keys: readonly number[],
  itemFeatures: readonly ItemFeatures[] | undefined,
  options: SimulationOptions,
  numFeatures: number,
): SharedWeights {
  const { dim, seed } = options
  const parts = members.map((shop, j) => {
    const f = itemFeatures?.[keys[j]!]
    return initSharedWeights(
      shop.split.itemIds.length,
      dim,
      createRng(mixSeed(seed, 0x5409, keys[j]!)),
      f ? { numFeatures, itemFeatures: f } : {},
    )
  })
  const numItems = parts.reduce((n, p) => n + p.numItems, 0)
  const itemEmbedding = new Float32Array(numItems * dim)
  const itemBias = new Float32Array(numItems)
  let row = 0
  for (const p of parts) {
    itemEmbedding.set(p.itemEmbedding, row * dim)
    itemBias.set(p.itemBias, row)
    row += p.numItems
  }
  const features = itemFeatures
    ? initSharedWeights(1, dim, createRng(mixSeed(seed, 0xfea7)), { numFeatures }).features
    : undefined
  return { numItems, dim, itemEmbedding, itemBias, ...(features ? { features } : {}) }
}

/** Shop rows `offset … offset + n` of the union model as the shop's own model (views: they follow training). */
function shopView(weights: SharedWeights, offset: number, n: number): ShopView {
  const { dim } = weights
  return {
    rowOffset: offset,
    weights: {
      numItems: n,
      dim,
      itemEmbedding: weights.itemEmbedding.subarray(offset * dim, (offset + n) * dim),
      itemBias: weights.itemBias.subarray(offset, offset + n),
      ...(weights.features ? { features: weights.features } : {}),
    },
  }
}

function meansOf(m: PerShopperMetrics): FullMetrics {
  const mean = (x: Float64Array) => (x.length > 0 ? x.reduce((a, b) => a + b, 0) / x.length : 0)
  return { hr10: mean(m.hr10), ndcg10: mean(m.ndcg10), recall20: mean(m.recall20), mrr20: mean(m.mrr20) }
}

function pairedGain(a: Float64Array, b: Float64Array, seed: number): Interval {
  return bootstrapMean(
    a.map((x, i) => x - b[i]!),
    { seed },
  )
}
