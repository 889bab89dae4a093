// An overflow-safe L2 norm for the server side, where the update being measured may be hostile.

/**
 * The Euclidean norm √(Σ x²), scaled by the largest magnitude first so that huge values do not overflow
 * to Infinity (a hostile round can produce them before the server rejects it). 0 for an empty input, NaN
 * if any value is NaN.
 * @example
 * l2Norm(Float32Array.of(3, 4)) // 5
 */
export function l2Norm(values: ArrayLike<number>): number {
  let scale = 0
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]!)
    if (Number.isNaN(a)) return Number.NaN
    if (a > scale) scale = a
  }
  if (scale === 0 || !Number.isFinite(scale)) return scale
  let sum = 0
  for (let i = 0; i < values.length; i++) {
    const x = values[i]! / scale
    sum += x * x
  }
  return scale * Math.sqrt(sum)
}
