// The recommenders to beat, without federated learning, scored on the same split so the simulator's report
// can say what fedrec adds.
import { createRng } from '@fedrec/core/client'
import { type CatalogueScores, contextOf, evaluateFull, type FullMetrics, type HeldOut } from './evaluate.ts'
import { mixSeed } from './seeds.ts'
import type { SplitDataset, SplitUser } from './split.ts'

/**
 * What a shop has without fedrec, scored on the same split as the models: a random order (chance: HR@10 ≈
 * 10/(negatives + 1)), the all-time bestseller list (shoppers per item in training), the bestseller list of
 * the most recent fifth of the training period, and item-to-item co-occurrence from everyone's histories in
 * one place (session-kNN style, the strong centralised baseline of session recommendation).
 */
export interface BaselineResults {
  random: FullMetrics
  popularity: FullMetrics
  recentPopularity: FullMetrics
  cooccurrence: FullMetrics & { recency: number }
}

/** Shoppers who touched each row in training: the bestseller list. */
export function popularityCounts(split: SplitDataset): Float64Array {
  const counts = new Float64Array(split.itemIds.length)
  for (const user of split.users) for (const row of user.trainRows) counts[row]! += 1
  return counts
}

/**
 * The co-occurrence recommender with its recency (how much older items of the shopper's recent window
 * count) tuned on the validation items among 1, 0.8 and 0.5: its scores and the recency chosen.
 * @example const { scores, recency } = tuneCooccurrence(split)
 */
export function tuneCooccurrence(
  split: SplitDataset,
  popularity = popularityCounts(split),
): { scores: CatalogueScores; recency: number } {
  const co = cooccurrenceCounts(split)
  const candidates = [1, 0.8, 0.5].map((recency) => ({
    recency,
    scores: cooccurrenceScores(co, popularity, recency),
  }))
  let tuned = { ...candidates[0]!, hr: -1 }
  for (const c of candidates) {
    const hr = evaluateFull(split, c.scores, 'validation').hr10
    if (hr > tuned.hr) tuned = { ...c, hr }
  }
  return { scores: tuned.scores, recency: tuned.recency }
}

/**
 * Every baseline's metrics on the test items; `cooccurrence` is {@link tuneCooccurrence}'s (pass it when
 * it is already computed).
 * @example const b = evaluateBaselines(split, 1); b.popularity.recall20
 */
export function evaluateBaselines(
  split: SplitDataset,
  seed: number,
  tuned = tuneCooccurrence(split),
): BaselineResults {
  const popularity = popularityCounts(split)
  // Ties broken by all-time popularity, far below one count, so "recent" never ranks below "never sold".
  const recent = split.recentCounts.map((c, row) => c + 1e-6 * popularity[row]!)
  const random = randomScores(split, seed)
  return {
    random: evaluateFull(split, random),
    popularity: evaluateFull(split, () => popularity),
    recentPopularity: evaluateFull(split, () => recent),
    cooccurrence: { ...evaluateFull(split, tuned.scores), recency: tuned.recency },
  }
}

/** A random order of the catalogue per shopper and held-out item, seeded: chance. */
export function randomScores(split: SplitDataset, seed: number): CatalogueScores {
  return (_, index, which) => {
    const rng = createRng(mixSeed(seed, 0x7a4d, index, which === 'test' ? 1 : 2))
    return Float64Array.from({ length: split.itemIds.length }, () => rng.next())
  }
}

/** For each row, how many shoppers' training histories hold it together with each other row. */
function cooccurrenceCounts(split: SplitDataset): Map<number, Map<number, number>> {
  const co = new Map<number, Map<number, number>>()
  for (const user of split.users) {
    const rows = [...user.trainRows]
    for (const a of rows) {
      const m = co.get(a) ?? new Map<number, number>()
      co.set(a, m)
      for (const b of rows) if (a !== b) m.set(b, (m.get(b) ?? 0) + 1)
    }
  }
  return co
}

/**
 * score(i) = Σ over the shopper's recent items j (newest first, the k-th back weighted recency^k) of
 * co(j, i) / √(pop(j)·pop(i)) — cosine co-occurrence — plus a popularity tie-break far below one co-count.
 */
function cooccurrenceScores(
  co: Map<number, Map<number, number>>,
  popularity: Float64Array,
  recency: number,
): CatalogueScores {
  return (user: SplitUser, _: number, which: HeldOut) => {
    const scores = popularity.map((p) => 1e-6 * p)
    const recentFirst: number[] = []
    for (const e of contextOf(user, which)) {
      const at = recentFirst.indexOf(e.row)
      if (at >= 0) recentFirst.splice(at, 1)
      recentFirst.unshift(e.row)
    }
    recentFirst.forEach((row, age) => {
      const m = co.get(row)
      if (!m) return
      const w = recency ** age
      for (const [other, count] of m)
        scores[other]! += (w * count) / Math.sqrt(popularity[row]! * popularity[other]!)
    })
    return scores
  }
}
