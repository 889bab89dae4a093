// The privacy attacks of the simulator: what an honest-but-curious aggregator can infer about a shopper's
// history from one upload.
import { createRng, featuresOf, type ItemFeatures, type SharedWeights } from '@fedrec/core/client'
import { FEATURE_BIAS, ITEM_BIAS, ITEM_EMBEDDING, type TensorDelta } from '@fedrec/protocol'
import { SimulationError } from './errors.ts'

/**
 * What an honest-but-curious aggregator holds for one client's upload: the decoded tensors, item embedding
 * and item bias, in the wire layout (ascending row ids, row-major values). Under secure aggregation the same
 * layout carries the masked values the aggregator sees instead; the attacks then read them as if they were
 * deltas.
 */
export interface ObservedUpload {
  /** Rows of the model (the catalogue size). */
  numItems: number
  tensors: readonly TensorDelta[]
  /**
   * The global model the client trained from, which the aggregator published and knows; the prior attacks
   * need it (without it they fall back to `bias`).
   */
  model?: SharedWeights
  /**
   * The catalogue's item features (the shop publishes them; the aggregator hashes them into the model), for
   * the feature-row attack. Absent: that attack is not run.
   */
  itemFeatures?: ItemFeatures | undefined
}

/**
 * The single-upload attacks, each guessing which items the client interacted with:
 * - `rows`: row membership — every row present scores 1 (ties), absent rows tie at the bottom;
 * - `bias`: the bias delta — BPR raises a positive's bias and lowers a negative's;
 * - `embedding`: the projection of each row's delta on the leading direction of all the upload's row
 *   deltas — positives move along +u, negatives along −u (u, the private user vector, is not sent, but it is
 *   the direction most rows moved along). The sign of that direction is unknown; it is oriented so that the
 *   minority of rows lies on the positive side, since every positive comes with several negatives;
 * - `popularity`: the rows whose bias rose, ranked by the global model's bias — real histories lean to
 *   popular items, pseudo-items drawn uniformly do not;
 * - `taste`: the rows whose bias rose, ranked by how the global model scores them for the estimated user
 *   vector (the leading direction above) — real items fit the shopper's taste, uniform pseudo-items do not.
 */
export const ATTACKS = ['rows', 'bias', 'embedding', 'popularity', 'taste'] as const
export type AttackName = (typeof ATTACKS)[number]

/** The score of a row the upload does not contain: below every row it does, tied with the other absent ones. */
export const ABSENT = Number.NEGATIVE_INFINITY

/**
 * Scores every item of the catalogue for how likely the client interacted with it, from its upload alone.
 * Absent rows score {@link ABSENT}. Deterministic.
 * @example
 * const scores = scoreUpload({ numItems: 1682, tensors: update.tensors }, 'bias')
 * const { auc } = attackMetrics(scores, historyRows)
 */
export function scoreUpload(observed: ObservedUpload, attack: AttackName): Float32Array {
  const { numItems } = observed
  const scores = new Float32Array(numItems).fill(ABSENT)
  const bias = findTensor(observed, ITEM_BIAS, 1)
  switch (attack) {
    case 'rows':
      for (const row of bias.rowIds) scores[checkRow(row, numItems)] = 1
      return scores
    case 'bias':
      bias.rowIds.forEach((row, i) => {
        scores[checkRow(row, numItems)] = bias.values[i]!
      })
      return scores
    case 'embedding': {
      const embedding = findTensor(observed, ITEM_EMBEDDING)
      const { projections } = leadingDirection(embedding)
      embedding.rowIds.forEach((row, i) => {
        scores[checkRow(row, numItems)] = projections[i]!
      })
      return scores
    }
    case 'popularity':
    case 'taste': {
      const { model } = observed
      if (!model) return scoreUpload(observed, 'bias')
      const direction =
        attack === 'taste' ? leadingDirection(findTensor(observed, ITEM_EMBEDDING)).direction : undefined
      bias.rowIds.forEach((row, i) => {
        let prior = model.itemBias[checkRow(row, numItems)]!
        if (direction)
          for (let c = 0; c < model.dim; c++)
            prior += model.itemEmbedding[row * model.dim + c]! * direction[c]!
        // Rows whose bias rose first (in (1, 2)), the rest after (in (0, 1)); the prior orders within each.
        scores[row] = (bias.values[i]! > 0 ? 1 : 0) + 1 / (1 + Math.exp(-prior))
      })
      return scores
    }
    default: {
      const never: never = attack
      throw new SimulationError('bad_option', `unknown attack ${String(never)}`)
    }
  }
}

/**
 * The feature-row attack: what the item-feature rows of an upload alone say about the shopper's items. An
 * item scores the sum of the feature-bias deltas of its feature rows in the upload (BPR raises the features
 * of a positive and lowers those of a negative, so the shopper's categories, brands and price bands rise);
 * an item none of whose feature rows is in the upload is {@link ABSENT}. Undefined when the upload carries no
 * feature rows or the observer has no item features (an id-only model, or masked uploads).
 * @example
 * const scores = scoreFeatureRows({ numItems, tensors: update.tensors, itemFeatures })
 */
export function scoreFeatureRows(observed: ObservedUpload): Float32Array | undefined {
  const { numItems, itemFeatures } = observed
  if (!itemFeatures || !observed.tensors.some((x) => x.name === FEATURE_BIAS)) return undefined
  const bias = findTensor(observed, FEATURE_BIAS, 1)
  const delta = new Map<number, number>()
  bias.rowIds.forEach((row, i) => {
    delta.set(row, bias.values[i]!)
  })
  const scores = new Float32Array(numItems).fill(ABSENT)
  for (let item = 0; item < numItems; item++) {
    let sum = 0
    let present = false
    for (const row of featuresOf(itemFeatures, item).rows) {
      const d = delta.get(row)
      if (d === undefined) continue
      sum += d
      present = true
    }
    if (present) scores[item] = sum
  }
  return scores
}

/**
 * The top eigenvector of ΔᵀΔ (power iteration, d × d) and each row's delta projected on it, oriented so that
 * fewer rows project positively than negatively; the direction is then an estimate of the user vector's.
 */
function leadingDirection(t: TensorDelta): { direction: Float64Array; projections: Float64Array } {
  const { cols: d, values } = t
  const rows = t.rowIds.length
  const projections = new Float64Array(rows)
  if (rows === 0) return { direction: new Float64Array(d), projections }
  const gram = new Float64Array(d * d)
  for (let r = 0; r < rows; r++) {
    const base = r * d
    for (let a = 0; a < d; a++) {
      const x = values[base + a]!
      if (x === 0) continue
      for (let b = 0; b < d; b++) gram[a * d + b]! += x * values[base + b]!
    }
  }
  // A fixed pseudo-random start: the same upload always gives the same direction.
  const rng = createRng(0x5eed)
  let v = Float64Array.from({ length: d }, () => rng.normal())
  for (let it = 0; it < 100; it++) {
    const next = new Float64Array(d)
    for (let a = 0; a < d; a++) {
      let s = 0
      for (let b = 0; b < d; b++) s += gram[a * d + b]! * v[b]!
      next[a] = s
    }
    const norm = Math.hypot(...next)
    if (norm === 0) return { direction: new Float64Array(d), projections }
    for (let a = 0; a < d; a++) next[a]! /= norm
    v = next
  }
  let above = 0
  for (let r = 0; r < rows; r++) {
    let s = 0
    for (let a = 0; a < d; a++) s += values[r * d + a]! * v[a]!
    projections[r] = s
    if (s > 0) above++
  }
  if (above * 2 > rows) {
    for (let r = 0; r < rows; r++) projections[r] = -projections[r]!
    for (let a = 0; a < d; a++) v[a] = -v[a]!
  }
  return { direction: v, projections }
}

function findTensor(observed: ObservedUpload, name: string, cols?: number): TensorDelta {
  const t = observed.tensors.find((x) => x.name === name)
  if (!t) throw new SimulationError('bad_option', `the observed upload has no ${name} tensor`)
  if ((cols !== undefined && t.cols !== cols) || t.values.length !== t.rowIds.length * t.cols)
    throw new SimulationError(
      'bad_option',
      `the observed ${name} tensor has ${t.rowIds.length} rows × ${t.cols} columns but ${t.values.length} values`,
    )
  return t
}

function checkRow(row: number, numItems: number): number {
  if (row >= numItems)
    throw new SimulationError('bad_option', `observed row ${row} is outside the catalogue of ${numItems}`)
  return row
}
