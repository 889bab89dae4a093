// The "New products (cold start)" measurement: how the held-out items that are new products (introduced
// after the time cut, never in training) rank under each recommender, and what features cost the others.
import { createRng, hitRatioAtK, rankAmong } from '@fedrec/core/client'
import { bootstrapMean, type Interval } from './bootstrap.ts'
import type { ColdSplit } from './cold-split.ts'
import { type CatalogueScores, contextOf } from './evaluate.ts'
import { mixSeed } from './seeds.ts'
import type { SplitUser } from './split.ts'

/** Means over shoppers of one recommender on one group of held-out items. */
export interface ColdMetrics {
  /** Against the shopper's fixed sampled negatives (the main tables' protocol). */
  hr10: number
  /** Full ranking against every item the shopper had not touched. */
  recall20: number
  /** Among the new products only: against up to 99 sampled new products the shopper had not touched. */
  hr10AmongNew: number
  /** Among the new products only, full ranking. */
  recall20AmongNew: number
}

/** The cold-start table: per recommender, and the paired gains of the feature model. */
export interface ColdStartResults {
  fraction: number
  /** Items in all, of which new (introduced after the cut); the cut's time; training events dropped. */
  items: number
  newItems: number
  cutTime: number
  droppedEvents: number
  /** Whether the new products were listed (drawn as negatives) during training (`--cold-listed`). */
  listed: boolean
  /** Shoppers whose held-out item is new, and the others. */
  newShoppers: number
  otherShoppers: number
  /** On the new held-out items, per recommender (random, popularity, id-only federated, features federated). */
  onNew: Record<string, ColdMetrics>
  /** Features federated minus each other recommender, per shopper: 95 % paired bootstrap intervals. */
  gains: Record<string, Record<keyof ColdMetrics, Interval>>
  /** HR@10 on the other (old) held-out items: id-only and features, and features minus id-only. */
  others: { idOnly: number; features: number; gain: Interval }
  targets: {
    atLeastTwiceRandom: boolean
    atLeastPopularity: boolean
    /** The others' gain interval reaches 0 or above: no measurable loss. */
    noLossOnOthers: boolean
  }
}

const KEYS = ['hr10', 'recall20', 'hr10AmongNew', 'recall20AmongNew'] as const

/**
 * Scores every recommender in `scorers` (it must hold 'features' and 'id-only'; random and popularity
 * beside them) on the test items of `split`: the shoppers whose test item is new give the table, the
 * others the no-loss check. Intervals: 2,000 paired bootstrap resamples over shoppers, seeded.
 * @example const cold = evaluateColdStart(split, 0.2, true, { random, popularity, 'id-only': a, features: b }, 1)
 */
export function evaluateColdStart(
  split: ColdSplit,
  fraction: number,
  listed: boolean,
  scorers: Record<string, CatalogueScores>,
  seed: number,
): ColdStartResults {
  const { coldFrom } = split
  const n = split.itemIds.length
  const newShoppers = split.evalUsers.filter((i) => split.users[i]!.test! >= coldFrom)
  const otherShoppers = split.evalUsers.filter((i) => split.users[i]!.test! < coldFrom)
  const perUser: Record<string, Record<keyof ColdMetrics, Float64Array>> = {}
  for (const [name, scores] of Object.entries(scorers)) {
    const m = Object.fromEntries(KEYS.map((k) => [k, new Float64Array(newShoppers.length)])) as Record<
      keyof ColdMetrics,
      Float64Array
    >
    newShoppers.forEach((index, j) => {
      const user = split.users[index]!
      const s = scores(user, index, 'test')
      const target = user.test!
      const known = new Set(contextOf(user, 'test').map((e) => e.row))
      m.hr10[j] = hitRatioAtK(rankAmong(s[target]!, pick(s, user.negatives)), 10)
      m.recall20[j] = rankFull(s, target, known, 0, n) < 20 ? 1 : 0
      m.hr10AmongNew[j] = hitRatioAtK(
        rankAmong(s[target]!, pick(s, newNegatives(split, user, index, seed))),
        10,
      )
      m.recall20AmongNew[j] = rankFull(s, target, known, coldFrom, n) < 20 ? 1 : 0
    })
    perUser[name] = m
  }
  const mean = (a: Float64Array) => (a.length > 0 ? a.reduce((x, y) => x + y, 0) / a.length : 0)
  const onNew = Object.fromEntries(
    Object.entries(perUser).map(([name, m]) => [
      name,
      Object.fromEntries(KEYS.map((k) => [k, mean(m[k])])) as unknown as ColdMetrics,
    ]),
  )
  const feat = perUser.features!
  const gains = Object.fromEntries(
    Object.entries(perUser)
      .filter(([name]) => name !== 'features')
      .map(([name, m]) => [
        name,
        Object.fromEntries(
          KEYS.map((k) => [
            k,
            bootstrapMean(
              feat[k].map((x, j) => x - m[k][j]!),
              { seed: mixSeed(seed, 0xc01d) },
            ),
          ]),
        ) as Record<keyof ColdMetrics, Interval>,
      ]),
  )
  const otherHits = (scores: CatalogueScores) =>
    Float64Array.from(otherShoppers, (index) => {
      const user = split.users[index]!
      const s = scores(user, index, 'test')
      return hitRatioAtK(rankAmong(s[user.test!]!, pick(s, user.negatives)), 10)
    })
  const idOnlyOthers = otherHits(scorers['id-only']!)
  const featureOthers = otherHits(scorers.features!)
  const gain = bootstrapMean(
    featureOthers.map((x, j) => x - idOnlyOthers[j]!),
    { seed: mixSeed(seed, 0x07e5) },
  )
  const f = onNew.features!
  return {
    fraction,
    items: n,
    newItems: n - coldFrom,
    cutTime: split.cutTime,
    droppedEvents: split.droppedEvents,
    listed,
    newShoppers: newShoppers.length,
    otherShoppers: otherShoppers.length,
    onNew,
    gains,
    others: { idOnly: mean(idOnlyOthers), features: mean(featureOthers), gain },
    targets: {
      atLeastTwiceRandom: f.hr10 >= 2 * (onNew.random?.hr10 ?? 0),
      atLeastPopularity: f.hr10 >= (onNew.popularity?.hr10 ?? 0),
      noLossOnOthers: gain.high >= 0,
    },
  }
}

const pick = (s: Float64Array, rows: ArrayLike<number>) =>
  Float64Array.from(rows as ArrayLike<number>, (r) => s[r]!)

/**
 * The held-out item's rank among rows `from .. to − 1` the shopper had not touched before it (ties count
 * against it), counted up to 20.
 */
function rankFull(s: Float64Array, target: number, known: Set<number>, from: number, to: number): number {
  const mine = s[target]!
  let rank = 0
  for (let row = from; row < to && rank < 20; row++) {
    if (row !== target && !known.has(row) && !(s[row]! < mine)) rank++
  }
  return rank
}

/** Up to 99 new products the shopper had not touched (seeded per shopper): the "among new" negatives. */
function newNegatives(split: ColdSplit, user: SplitUser, index: number, seed: number): Int32Array {
  const { coldFrom } = split
  const touched = new Set(contextOf(user, 'test').map((e) => e.row))
  touched.add(user.test!)
  const pool: number[] = []
  for (let row = coldFrom; row < split.itemIds.length; row++) if (!touched.has(row)) pool.push(row)
  const rng = createRng(mixSeed(seed, 0x4e3, index))
  const m = Math.min(99, pool.length)
  for (let j = 0; j < m; j++) {
    const k = j + rng.int(pool.length - j)
    ;[pool[j], pool[k]] = [pool[k]!, pool[j]!]
  }
  return Int32Array.from(pool.slice(0, m))
}
