// How far one client's update may move the model: the update and row norm bounds applied on upload.
import { clipRows } from '@fedrec/core/server'
import type { ModelUpdate } from '@fedrec/protocol'
import { AggregatorError } from './errors.ts'

/** What to do with an update whose L2 norm exceeds the bound: scale it down to the bound, or refuse it. */
export type NormPolicy = 'clip' | 'reject'

/** The per-client bound on an update's L2 norm. `maxNorm: Infinity` turns it off. */
export interface NormBound {
  maxNorm: number
  policy: NormPolicy
  /** Per-row clipping first (robust aggregation, see `clipRows`); Infinity or absent: off. */
  maxRowNorm?: number
}

/**
 * L2 norm of an update: over every value of every tensor delta, as one vector.
 * @example const norm = updateNorm(decodeUpdate(bytes))
 */
export function updateNorm(update: ModelUpdate): number {
  let sum = 0
  for (const t of update.tensors) for (const v of t.values) sum += v * v
  return Math.sqrt(sum)
}

/**
 * Applies the bounds to one client's update. With `maxRowNorm` each item row is first scaled down to it
 * (whatever the policy: a row bound is a robust aggregation rule, not a verdict on the client). Under `clip`
 * an update above `maxNorm` is then scaled by `maxNorm / norm` as a whole (the per-client clipping of
 * DP-FedAvg, McMahan et al. 2018), so its direction is kept and no client moves the model more than
 * `maxNorm`; under `reject` it is refused. `clipped` says whether either bound changed the update.
 * @throws AggregatorError `update_norm_too_large` under `reject`
 * @example const { update, norm, clipped } = applyNormBound(decoded, { maxNorm: 10, policy: 'clip' })
 */
export function applyNormBound(
  input: ModelUpdate,
  { maxNorm, policy, maxRowNorm = Number.POSITIVE_INFINITY }: NormBound,
): { update: ModelUpdate; norm: number; clipped: boolean } {
  let update = input
  let rowsClipped = false
  if (Number.isFinite(maxRowNorm)) {
    const rows = clipRows(input.tensors, maxRowNorm)
    rowsClipped = rows.clippedRows > 0
    if (rowsClipped) update = { ...input, tensors: [...rows.deltas] }
  }
  const norm = updateNorm(update)
  if (norm <= maxNorm) return { update, norm, clipped: rowsClipped }
  if (policy === 'reject') {
    throw new AggregatorError(
      'update_norm_too_large',
      `the update's L2 norm is ${norm.toPrecision(4)}, above the bound of ${maxNorm}; train with a smaller learning rate or fewer local epochs, or send a smaller update`,
    )
  }
  const scale = maxNorm / norm
  return {
    update: {
      ...update,
      tensors: update.tensors.map((t) => ({ ...t, values: t.values.map((v) => v * scale) })),
    },
    norm: maxNorm,
    clipped: true,
  }
}
