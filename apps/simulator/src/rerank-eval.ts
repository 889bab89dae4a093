// Issue 18 part 3 on the simulator's side: the held-out item's place in a list the shop already shows (every
// catalogue item of its category, a stand-in for a search result) in the shop's order and re-ranked.
import { createRng, hitRatioAtK, ndcgAtK, rerankByScore } from '@fedrec/core/client'
import { bootstrapMean, type Interval } from './bootstrap.ts'
import type { CategoryKind, ItemCatalogue } from './datasets/index.ts'
import { type CatalogueScores, contextOf } from './evaluate.ts'
import { mixSeed } from './seeds.ts'
import type { SplitDataset } from './split.ts'

/** NDCG@10, MRR (over the whole list) and HR@10 of the held-out item in one order, means over shoppers. */
export interface ListMetrics {
  ndcg10: number
  mrr: number
  hr10: number
}

/** Each order's metrics over a set of shoppers, and each re-ranking's gain over the popularity order. */
export interface RerankTable {
  shoppers: number
  /** `random` and `popularity` are the shop's orders; the rest re-rank the popularity order by their scores. */
  orders: Record<string, ListMetrics>
  /** Re-ranked minus popularity, per shopper; mean and paired-bootstrap 95 % interval over shoppers. */
  gainOverPopularity: Record<string, { ndcg10: Interval; mrr: Interval }>
}

/** The re-ranking table over every shopper with a usable list (`shoppers` is its n), and its warm part. */
export interface RerankResults extends RerankTable {
  categoryKind: CategoryKind
  /** Which list a shopper's held-out item is ranked in. */
  listRule: 'finest category' | 'each genre'
  minListSize: number
  /** Evaluated shoppers left out: their item has no metadata, no category, or only lists that are too small. */
  skipped: { noMetadata: number; noCategory: number; smallLists: number }
  /** Candidates per usable list (the held-out item included): median and mean. */
  listSize: { median: number; mean: number }
  /**
   * The same over the shoppers whose held-out item someone else touched in training: the only items an
   * id-only model has a learned row for (the others are where item features must help).
   */
  warm: RerankTable
}

export interface RerankOptions {
  seed: number
  /** Lists shorter than this (after leaving out what the shopper already touched) are skipped. */
  minListSize?: number
  resamples?: number
}

/**
 * For every evaluated shopper with a categorised test item: the candidates are the catalogue items (model
 * rows) sharing its finest category (MovieLens: each of its genres, the shopper's metrics averaged over
 * them so each shopper counts once), minus the items the shopper touched before it (as the full ranking
 * leaves them out; the held-out item is new by construction), in the shop's default order: popularity
 * (shoppers per item in training, the bestseller sort), ties by row. Each scorer re-ranks that list with
 * core's `rerankByScore` (ties keep the bestseller order); `random` is a seeded shuffle. `warm` repeats the
 * table for the held-out items someone else touched in training (popularity > 0).
 * @example const table = evaluateRerank(split, catalogue, popularity, { federated: fedScores }, { seed: 1 })
 */
export function evaluateRerank(
  split: SplitDataset,
  catalogue: ItemCatalogue,
  popularity: Float64Array,
  scorers: Record<string, CatalogueScores>,
  { seed, minListSize = 5, resamples = 2000 }: RerankOptions,
): RerankResults {
  const lists = categoryLists(split, catalogue, popularity)
  const names = ['random', 'popularity', ...Object.keys(scorers)]
  const perShopper: PerShopper = new Map(names.map((n) => [n, { ndcg10: [], mrr: [], hr10: [] }]))
  const warm: boolean[] = []
  const skipped = { noMetadata: 0, noCategory: 0, smallLists: 0 }
  const sizes: number[] = []
  for (const index of split.evalUsers) {
    const user = split.users[index]!
    const target = user.test!
    const meta = catalogue.items.get(split.itemIds[target]!)
    if (!meta) {
      skipped.noMetadata++
      continue
    }
    const keys = listKeys(catalogue.categoryKind, meta.categories)
    if (keys.length === 0) {
      skipped.noCategory++
      continue
    }
    const known = new Set(contextOf(user, 'test').map((e) => e.row))
    const usable = keys
      .map((key) => lists.get(key)!.filter((row) => !known.has(row)))
      .filter((list) => list.length >= minListSize)
    if (usable.length === 0) {
      skipped.smallLists++
      continue
    }
    const scores = new Map(Object.entries(scorers).map(([name, s]) => [name, s(user, index, 'test')]))
    const sums = new Map(names.map((n) => [n, { ndcg10: 0, mrr: 0, hr10: 0 }]))
    usable.forEach((list, k) => {
      sizes.push(list.length)
      const orders: [string, number[]][] = [
        ['random', shuffled(list, mixSeed(seed, 0x4e4b, index, k))],
        ['popularity', list],
        ...[...scores].map(([name, s]): [string, number[]] => [name, rerankByScore(list, (row) => s[row]!)]),
      ]
      for (const [name, order] of orders) {
        const rank = order.indexOf(target)
        const sum = sums.get(name)!
        sum.ndcg10 += ndcgAtK(rank, 10)
        sum.mrr += 1 / (rank + 1)
        sum.hr10 += hitRatioAtK(rank, 10)
      }
    })
    warm.push(popularity[target]! > 0)
    for (const name of names) {
      const sum = sums.get(name)!
      const out = perShopper.get(name)!
      out.ndcg10.push(sum.ndcg10 / usable.length)
      out.mrr.push(sum.mrr / usable.length)
      out.hr10.push(sum.hr10 / usable.length)
    }
  }
  const sorted = [...sizes].sort((a, b) => a - b)
  const table = (keep: (i: number) => boolean) => tableOf(perShopper, keep, { seed, resamples })
  return {
    categoryKind: catalogue.categoryKind,
    listRule: catalogue.categoryKind === 'genres' ? 'each genre' : 'finest category',
    minListSize,
    skipped,
    listSize: { median: sorted.length > 0 ? sorted[sorted.length >> 1]! : 0, mean: mean(sizes) },
    ...table(() => true),
    warm: table((i) => warm[i]!),
  }
}

type PerShopper = Map<string, { ndcg10: number[]; mrr: number[]; hr10: number[] }>

const mean = (xs: number[]) => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : 0)

/** Means and paired-bootstrap gains over popularity of the shoppers `keep` picks (by their index). */
function tableOf(
  perShopper: PerShopper,
  keep: (i: number) => boolean,
  { seed, resamples }: { seed: number; resamples: number },
): RerankTable {
  const picked = new Map(
    [...perShopper].map(([name, m]) => [
      name,
      {
        ndcg10: m.ndcg10.filter((_, i) => keep(i)),
        mrr: m.mrr.filter((_, i) => keep(i)),
        hr10: m.hr10.filter((_, i) => keep(i)),
      },
    ]),
  )
  const base = picked.get('popularity')!
  const gain = (xs: number[], ys: number[], salt: number) =>
    bootstrapMean(
      xs.map((x, i) => x - ys[i]!),
      { resamples, seed: mixSeed(seed, 0xb007, salt) },
    )
  const names = [...picked.keys()]
  return {
    shoppers: base.ndcg10.length,
    orders: Object.fromEntries(
      [...picked].map(([name, p]) => [
        name,
        { ndcg10: mean(p.ndcg10), mrr: mean(p.mrr), hr10: mean(p.hr10) },
      ]),
    ),
    gainOverPopularity: Object.fromEntries(
      names
        .filter((n) => n !== 'popularity')
        .map((n, i) => {
          const p = picked.get(n)!
          return [n, { ndcg10: gain(p.ndcg10, base.ndcg10, 2 * i), mrr: gain(p.mrr, base.mrr, 2 * i + 1) }]
        }),
    ),
  }
}

/** The lists an item is ranked in: its finest category on a path, each genre for genres, none without. */
function listKeys(kind: CategoryKind, categories: string[]): string[] {
  if (kind === 'genres') return categories
  if (kind === 'path') return categories.length > 0 ? [categories[categories.length - 1]!] : []
  return []
}

/** Every list key's model rows in the shop's default order: bestsellers first, ties by row. */
function categoryLists(
  split: SplitDataset,
  catalogue: ItemCatalogue,
  popularity: Float64Array,
): Map<string, number[]> {
  const lists = new Map<string, number[]>()
  split.itemIds.forEach((id, row) => {
    const meta = catalogue.items.get(id)
    if (!meta) return
    for (const key of listKeys(catalogue.categoryKind, meta.categories)) {
      const list = lists.get(key) ?? []
      if (list.length === 0) lists.set(key, list)
      list.push(row)
    }
  })
  for (const list of lists.values()) list.sort((a, b) => popularity[b]! - popularity[a]! || a - b)
  return lists
}

/** A seeded Fisher–Yates shuffle (a copy). */
function shuffled(list: readonly number[], seed: number): number[] {
  const rng = createRng(seed)
  const out = [...list]
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
