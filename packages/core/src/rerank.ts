// Re-ranking a list the shop already shows (search results, a category page) by a shopper's scores.

/**
 * The candidates in descending score order; equal scores keep the shop's default order (the order
 * `candidates` came in), and a NaN score goes after every number, so an unscored item never jumps ahead of
 * the shop's own choice. Pure and stable; the input is not changed.
 * @example
 * rerankByScore(['a', 'b', 'c'], (id) => ({ a: 0.1, b: 0.9, c: 0.1 })[id]!) // ['b', 'a', 'c']
 */
export function rerankByScore<T>(
  candidates: readonly T[],
  score: (candidate: T, index: number) => number,
): T[] {
  const keyed = candidates.map((candidate, index) => {
    const s = score(candidate, index)
    return { candidate, index, score: Number.isNaN(s) ? Number.NEGATIVE_INFINITY : s, nan: Number.isNaN(s) }
  })
  keyed.sort((a, b) => {
    if (a.nan !== b.nan) return a.nan ? 1 : -1
    if (a.score !== b.score) return b.score - a.score
    return a.index - b.index
  })
  return keyed.map((k) => k.candidate)
}
