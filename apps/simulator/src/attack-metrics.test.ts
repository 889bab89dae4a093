import { describe, expect, it } from 'vitest'
import { ABSENT } from './attack.ts'
import { attackMetrics } from './attack-metrics.ts'

describe('attackMetrics', () => {
  it('is 1 / 1 for a perfect ranking and 0 / 0 for an inverted one', () => {
    expect(attackMetrics(Float32Array.of(3, 2, 1, 0), new Set([0, 1]))).toEqual({ precision: 1, auc: 1 })
    expect(attackMetrics(Float32Array.of(0, 1, 2, 3), new Set([0, 1]))).toEqual({ precision: 0, auc: 0 })
  })

  it('counts ties half for the AUC and by expectation at the precision cut', () => {
    // All tied: chance.
    expect(attackMetrics(new Float32Array(10), new Set([2, 5]))).toEqual({ precision: 0.2, auc: 0.5 })
    // History {0, 1}; 0 first, then 3, then 1 tied with 2 (absent): precision 1/2, AUC (1 + 1 + ½ + 0) / 4.
    const scores = Float32Array.of(5, ABSENT, ABSENT, 1)
    expect(attackMetrics(scores, new Set([0, 1]))).toEqual({ precision: 0.5, auc: 0.625 })
    // History {0, 3} with 3 tied against 1 and 2 at the cut: precision (1 + ⅓) / 2.
    expect(attackMetrics(Float32Array.of(5, 1, 1, 1), new Set([0, 3])).precision).toBeCloseTo(2 / 3, 10)
    // Row membership: 2 of 3 present rows are history, 1 history row absent; 10 items.
    const rows = Float32Array.from({ length: 10 }, (_, i) => (i < 3 ? 1 : ABSENT))
    const m = attackMetrics(rows, new Set([0, 1, 9]))
    expect(m.precision).toBeCloseTo(2 / 3, 10)
    // Pairs (history, other): 0 and 1 beat 6 absent and tie 1 present; 9 ties 6 and loses to 1.
    expect(m.auc).toBeCloseTo((2 * (6 + 0.5) + 3) / 21, 10)
  })

  it('is chance when the history is empty or the whole catalogue', () => {
    expect(attackMetrics(Float32Array.of(1, 2), new Set())).toEqual({ precision: 0, auc: 0.5 })
    expect(attackMetrics(Float32Array.of(1, 2), new Set([0, 1]))).toEqual({ precision: 1, auc: 0.5 })
  })
})
