// Measures what an attacker learns from uploads: how well its scores pick out a shopper's history (the
// row-padding study of docs/privacy.md).

/** How well one attack's scores single out one client's history. */
export interface AttackMetrics {
  /**
   * The share of the history among the |H| top-scored items; ties at the cut count by expectation (as if
   * broken at random), so a tie of everything gives the base rate |H| / numItems.
   */
  precision: number
  /** ROC AUC of history vs. the rest of the catalogue; ties count half, so 0.5 is chance. */
  auc: number
}

/**
 * Precision@|H| and ROC AUC of `scores` (one per item) for the items in `history`.
 * @example attackMetrics(Float32Array.of(3, 1, 2), new Set([0])) // { precision: 1, auc: 1 }
 */
export function attackMetrics(scores: Float32Array, history: ReadonlySet<number>): AttackMetrics {
  const n = scores.length
  const h = history.size
  if (h === 0 || h === n) return { precision: h === 0 ? 0 : 1, auc: 0.5 }
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || 0)
  // One pass over groups of tied scores, best first: midranks for the AUC, the group at the cut for precision.
  let start = 0
  let precisionHits = 0
  let rankSum = 0 // sum of ascending midranks (1 = lowest) of the history's items
  while (start < n) {
    let end = start + 1
    const s = scores[order[start]!]!
    while (end < n && (scores[order[end]!]! === s || (Number.isNaN(s) && Number.isNaN(scores[order[end]!]!))))
      end++
    let inHistory = 0
    for (let j = start; j < end; j++) if (history.has(order[j]!)) inHistory++
    const size = end - start
    if (end <= h) precisionHits += inHistory
    else if (start < h) precisionHits += (inHistory * (h - start)) / size
    // Descending positions start..end-1 are ascending ranks n-end+1 .. n-start; their mean is the midrank.
    rankSum += (inHistory * (n - start + (n - end + 1))) / 2
    start = end
  }
  const auc = (rankSum - (h * (h + 1)) / 2) / (h * (n - h))
  return { precision: precisionHits / h, auc }
}
