// How QA scenarios tell whether federation helped: a per-shopper hit measured in that shopper's own browser.
import { sample, seeded } from './random.ts'
import type { Shopper } from './shopper.ts'

/** Where a shopper's held-out item ranks among sampled negatives, scored by the shopper's own browser. */
export interface HeldOutRank {
  /** 0 is best. */
  rank: number
  hit10: boolean
  ndcg10: number
}

/**
 * Leave-one-out evaluation as in NCF (He et al. 2017): the held-out item is ranked against 99 items the
 * shopper never touched (per its local history), with the scores `recommend()` gives in the shopper's worker (the model it holds
 * and its private user vector). Null when the profile has no held-out item or the model does not know it.
 * @example const r = await rankHeldOut(shopper, catalogueIds, { seed: 3 }); r?.hit10
 */
export async function rankHeldOut(
  shopper: Shopper,
  itemIds: readonly string[],
  { negatives = 99, seed = 1 } = {},
): Promise<HeldOutRank | null> {
  const heldOut = shopper.profile.heldOut
  if (!heldOut) return null
  const scored = await shopper.recommend(itemIds.length)
  const score = new Map(scored.map((r) => [r.itemId, r.score]))
  const target = score.get(heldOut)
  if (target === undefined) return null
  // Negatives are items this shopper never touched, by its own history (UI clicks included).
  const touched = new Set((await shopper.history()).map((e) => e.itemId))
  const candidates = itemIds.filter((id) => id !== heldOut && !touched.has(id) && score.has(id))
  const drawn = sample(candidates, negatives, seeded(seed))
  // Ties count against the held-out item, so a constant model does not look good.
  const rank = drawn.filter((id) => score.get(id)! >= target).length
  return { rank, hit10: rank < 10, ndcg10: rank < 10 ? 1 / Math.log2(rank + 2) : 0 }
}
