// Hiding a shopper's history among the rows of its upload: which untouched rows it also trains, and how many.
import { ModelError } from './errors.ts'
import type { Rng } from './rng.ts'

/**
 * Row padding: the untouched rows a shopper trains on as if it had interacted with them (pseudo-items, as
 * in FedRec, Lin et al. 2020, and MultiVerse), so that the rows of an upload no longer give its history away.
 *
 * How many: `ratio` pseudo-items per real one, and then the total of positive-looking rows rounded up to the
 * next step of a geometric ladder (quarter powers of two, ≈ 19 % apart). With a plain ratio the row count
 * and n_k would reveal the history size exactly (rows = (1 + ratio) · |H| · (1 + negatives)); the ladder
 * leaves only the step it falls in. Capped so that at least `reserve` untouched rows remain for negatives.
 *
 * Which: drawn without replacement from softmax(`scores`) over the untouched rows — the global model's own
 * prediction for this shopper — by Gumbel-top-k (the rows with the largest score + Gumbel noise). Uniform
 * pseudo-items would be easy to tell apart: the aggregator knows the global model, real histories lean to
 * popular items and to one taste, and uniform draws do not (measured in docs/privacy.md); they also cost more
 * accuracy. Without `scores` the draw is uniform.
 *
 * Stable across rounds: an aggregator links a client's rounds (its client id is stable), and a set drawn
 * anew every round would leave the real items as the only rows present in every round. So `previous` (the
 * last round's pseudo-items, kept on the device) are kept first, and the Gumbel noise is one value per
 * catalogue row drawn from `rng` in row order: with a stream that is the same every round (a per-device
 * secret seed) a new draw changes only as far as the scores do.
 *
 * Their weights: each pseudo-item takes the weight of a real positive drawn from the same stream, so the
 * distribution of weights (visible as delta magnitude: a purchase moves its row further than a click) is the
 * same for real and pseudo rows.
 * @example
 * const pseudo = pickPseudoItems({ touched: new Map([[3, 4], [8, 1]]), numItems: 1000, ratio: 2, reserve: 4, rng: createRng(secret) })
 * pseudo.rows // e.g. [412, 17, 903, 250]: 2 real + 4 pseudo = 6, the ladder step at or above 6
 */
export function pickPseudoItems(options: {
  /** Real positive rows and their weights. */
  touched: ReadonlyMap<number, number>
  numItems: number
  ratio: number
  /** Untouched rows to leave over for negatives. */
  reserve: number
  rng: Rng
  /** One score per row (the model's logit for this shopper); absent: uniform. */
  scores?: ArrayLike<number>
  /**
   * The pseudo-items of the device's previous round: kept first (those still untouched and in the
   * catalogue), so the set only changes as far as the history's size does, whatever the scores do.
   */
  previous?: readonly number[]
}): { rows: number[]; weights: number[] } {
  const { touched, numItems, ratio, reserve, rng, scores, previous = [] } = options
  if (!(Number.isFinite(ratio) && ratio >= 0)) {
    throw new ModelError('bad_option', `padRatio must be a finite number >= 0, got ${ratio}`)
  }
  if (scores && scores.length !== numItems) {
    throw new ModelError('bad_option', `padding scores must have ${numItems} values, got ${scores.length}`)
  }
  const real = touched.size
  if (ratio === 0 || real === 0) return { rows: [], weights: [] }
  const wanted = ladderStep(Math.ceil((1 + ratio) * real)) - real
  const count = Math.max(0, Math.min(wanted, numItems - real - reserve))
  // Every row's noise is drawn, touched or not, so a row's key does not depend on the rest of the history.
  const keys = new Float64Array(numItems)
  for (let row = 0; row < numItems; row++) {
    // next() is k / 2^32 with k < 2^32: half a step keeps u strictly inside (0, 1).
    const gumbel = -Math.log(-Math.log(rng.next() + 2 ** -33))
    const s = scores ? scores[row]! : 0
    keys[row] = (Number.isFinite(s) ? s : 0) + gumbel
  }
  const kept = new Set<number>()
  for (const row of previous)
    if (kept.size < count && Number.isInteger(row) && row >= 0 && row < numItems && !touched.has(row))
      kept.add(row)
  const candidates: number[] = []
  for (let row = 0; row < numItems; row++) if (!touched.has(row) && !kept.has(row)) candidates.push(row)
  candidates.sort((a, b) => keys[b]! - keys[a]! || a - b)
  const rows = [...kept, ...candidates.slice(0, count - kept.size)]
  const realWeights = [...touched.values()].sort((a, b) => a - b)
  const weights = rows.map(() => realWeights[rng.int(realWeights.length)]!)
  return { rows, weights }
}

/** The smallest ⌈2^(k/4)⌉ that is ≥ n (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, …). */
export function ladderStep(n: number): number {
  let k = 0
  while (Math.ceil(2 ** (k / 4)) < n) k++
  return Math.ceil(2 ** (k / 4))
}
