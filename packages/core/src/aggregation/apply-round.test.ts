import type { TensorDelta } from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { createAccumulator } from './accumulator.ts'
import { applyRound } from './apply-round.ts'
import { createServerOptimizer, type ServerOptimizerState } from './server-optimizer.ts'

/** Deterministic pseudo-random numbers in [-1, 1) (a 32-bit LCG), so the test needs no seed library. */
function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 31 - 1
  }
}

describe('applyRound', () => {
  it('fedavg with η = 1 after accumulating equals the seed formula Σ_k (n_k/n)·w^k', () => {
    const rows = 40
    const cols = 3
    const random = lcg(42)
    const global = Float32Array.from({ length: rows * cols }, () => random())
    const clients: { n: number; local: Float32Array; delta: TensorDelta }[] = []
    for (let k = 0; k < 25; k++) {
      const n = 1 + Math.floor((random() + 1) * 50)
      // Each client trains its own slice: a random subset of rows; untouched rows keep the global values.
      const rowIds = Uint32Array.from({ length: rows }, (_, r) => r).filter(() => random() > 0.3)
      const local = global.slice()
      const values = new Float32Array(rowIds.length * cols)
      rowIds.forEach((r, i) => {
        for (let c = 0; c < cols; c++) {
          local[r * cols + c] = Math.fround(global[r * cols + c]! + 0.1 * random())
          // the wire carries w^k − w_t for the touched rows
          values[i * cols + c] = local[r * cols + c]! - global[r * cols + c]!
        }
      })
      clients.push({ n, local, delta: { name: 'emb', cols, rowIds, values } })
    }

    const acc = createAccumulator({ tensors: [{ name: 'emb', rows, cols }] })
    for (const { n, delta } of clients) acc.add({ sampleCount: n, tensors: [delta] })
    const params = new Map([['emb', global.slice()]])
    applyRound(params, acc.result(), createServerOptimizer({ name: 'fedavg', learningRate: 1 }), new Map())

    const total = clients.reduce((sum, { n }) => sum + n, 0)
    expect(acc.samples).toBe(total)
    const got = params.get('emb')!
    for (let i = 0; i < rows * cols; i++) {
      let expected = 0
      for (const { n, local } of clients) expected += (n / total) * local[i]!
      // float32 holds |w| < 2 to about 1.2e-7; the result is rounded to float32 twice (mean, then x + Δ)
      expect(Math.abs(got[i]! - expected), `element ${i}`).toBeLessThan(3e-7)
    }
  })

  it('reports the L2 norm of the applied update and keeps per-tensor state', () => {
    const params = new Map([
      ['emb', Float32Array.of(1, 1)],
      ['bias', Float32Array.of(0)],
    ])
    const delta = new Map([
      ['emb', Float32Array.of(3, 0)],
      ['bias', Float32Array.of(-4)],
    ])
    const state = new Map<string, ServerOptimizerState>()
    // fedavg, η = 1: the update is Δ itself, norm √(3² + 0² + 4²) = 5
    const { updateNorm } = applyRound(params, delta, createServerOptimizer({ name: 'fedavg' }), state)
    expect(updateNorm).toBe(5)
    expect(Array.from(params.get('emb')!)).toEqual([4, 1])
    expect(Array.from(params.get('bias')!)).toEqual([-4])

    const momentum = createServerOptimizer({ name: 'fedavgm', momentum: 0.5 })
    applyRound(params, delta, momentum, state)
    // second fedavgm round: m = 0.5·Δ + Δ = 1.5·Δ = [4.5, 0] and [−6], norm 1.5·5 = 7.5
    const second = applyRound(params, delta, momentum, state)
    expect(second.updateNorm).toBe(7.5)
    expect(Array.from(state.get('emb')!.m!)).toEqual([4.5, 0])
    expect(Array.from(state.get('bias')!.m!)).toEqual([-6])
  })

  it('checks every tensor before changing any', () => {
    const params = new Map([
      ['emb', Float32Array.of(1, 1)],
      ['bias', Float32Array.of(0)],
    ])
    const optimizer = createServerOptimizer({ name: 'fedadam' })
    const state = new Map<string, ServerOptimizerState>()
    const cases: [Map<string, Float32Array>, string][] = [
      [
        new Map([
          ['emb', Float32Array.of(1, 1)],
          ['user', Float32Array.of(1)],
        ]),
        'unknown_tensor',
      ],
      [
        new Map([
          ['emb', Float32Array.of(1, 1)],
          ['bias', Float32Array.of(1, 1)],
        ]),
        'shape_mismatch',
      ],
      [
        new Map([
          ['emb', Float32Array.of(1, 1)],
          ['bias', Float32Array.of(Number.NaN)],
        ]),
        'non_finite',
      ],
    ]
    for (const [delta, code] of cases) {
      expect(() => applyRound(params, delta, optimizer, state)).toThrow(expect.objectContaining({ code }))
    }
    const badState = new Map<string, ServerOptimizerState>([['bias', { v: Float32Array.of(1, 1) }]])
    expect(() =>
      applyRound(
        params,
        new Map([
          ['emb', Float32Array.of(1, 1)],
          ['bias', Float32Array.of(1)],
        ]),
        optimizer,
        badState,
      ),
    ).toThrow(/state\.v 2/)
    expect(Array.from(params.get('emb')!)).toEqual([1, 1])
    expect(Array.from(params.get('bias')!)).toEqual([0])
    expect(state.size).toBe(0)
  })
})
