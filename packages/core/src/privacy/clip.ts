// The per-client bound DP-FedAvg needs before noise can hide one shopper, applied on the device before the
// update leaves it.
import type { TensorDelta } from '@fedrec/protocol'
import { PrivacyError } from './errors.ts'

/**
 * The L2 norm of a whole update (every value of every tensor as one vector), in float64.
 * @example deltasNorm([{ name: 'item_bias', cols: 1, rowIds: Uint32Array.of(0, 1), values: Float32Array.of(3, 4) }]) // 5
 */
export function deltasNorm(deltas: readonly TensorDelta[]): number {
  let sum = 0
  for (const t of deltas) for (let i = 0; i < t.values.length; i++) sum += t.values[i]! * t.values[i]!
  return Math.sqrt(sum)
}

/**
 * Scales an update down so that its L2 norm is at most `clipNorm` (DP-FedAvg's per-client clipping,
 * McMahan et al. 2018): the whole update by one factor, so its direction is kept. An update within the bound
 * is returned as it is (same arrays); a clipped one gets fresh arrays. The float32 rounding of the scaled
 * values can leave the norm a few parts in 10⁷ above the bound; the server clips again in float64.
 * @throws PrivacyError `bad_option` unless clipNorm is a finite number > 0
 * @example const { deltas, clipped } = clipDeltas(result.deltas, 0.5)
 */
export function clipDeltas(
  deltas: readonly TensorDelta[],
  clipNorm: number,
): { deltas: readonly TensorDelta[]; norm: number; clipped: boolean } {
  if (!(clipNorm > 0 && Number.isFinite(clipNorm)))
    throw new PrivacyError('bad_option', `clipNorm must be a finite number > 0, got ${clipNorm}`)
  const norm = deltasNorm(deltas)
  if (norm <= clipNorm) return { deltas, norm, clipped: false }
  const scale = clipNorm / norm
  return {
    deltas: deltas.map((t) => ({ ...t, values: t.values.map((v) => v * scale) })),
    norm,
    clipped: true,
  }
}
