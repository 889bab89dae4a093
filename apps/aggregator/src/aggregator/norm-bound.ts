import type { ModelUpdate } from '@fedrec/protocol'
import { AggregatorError } from './errors.ts'

/** What to do with an update whose L2 norm exceeds the bound: scale it down to the bound, or refuse it. */
export type NormPolicy = 'clip' | 'reject'

/** The per-client bound on an update's L2 norm. `maxNorm: Infinity` turns it off. */
export interface NormBound {
  maxNorm: number
  policy: NormPolicy
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
 * Applies the bound to one client's update. Under `clip` an update above the bound is scaled by
 * `maxNorm / norm` as a whole (the per-client clipping of DP-FedAvg, McMahan et al. 2018), so its direction
 * is kept and no client moves the model more than `maxNorm`; under `reject` it is refused.
 * @throws AggregatorError `update_norm_too_large` under `reject`
 * @example const { update, norm, clipped } = applyNormBound(decoded, { maxNorm: 10, policy: 'clip' })
 */
export function applyNormBound(
  update: ModelUpdate,
  { maxNorm, policy }: NormBound,
): { update: ModelUpdate; norm: number; clipped: boolean } {
  const norm = updateNorm(update)
  if (norm <= maxNorm) return { update, norm, clipped: false }
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
