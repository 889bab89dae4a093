import { describe, expect, it } from 'vitest'
import { AggregationError } from './errors.ts'
import {
  createServerOptimizer,
  isServerOptimizerName,
  SERVER_OPTIMIZERS,
  type ServerOptimizerState,
} from './server-optimizer.ts'

const f32 = (...xs: number[]) => Float32Array.from(xs)

/** Float32 storage keeps about 7 significant digits; the expectations below are exact reals. */
function expectClose(actual: ArrayLike<number> | undefined, expected: number[], digits = 6): void {
  expect(actual).toBeDefined()
  expect(actual!.length).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) expect(actual![i], `index ${i}`).toBeCloseTo(expected[i]!, digits)
}

describe('createServerOptimizer, first steps computed by hand', () => {
  it('fedavg: x += η·Δ', () => {
    const x = f32(1, 2, 3)
    createServerOptimizer({ name: 'fedavg' }).step(x, f32(0.5, -0.25, 0), {})
    // η = 1 (default): [1 + 0.5, 2 − 0.25, 3 + 0] — exact in float32
    expect(Array.from(x)).toEqual([1.5, 1.75, 3])

    const y = f32(1, 2, 3)
    createServerOptimizer({ name: 'fedavg', learningRate: 0.5 }).step(y, f32(0.5, -0.25, 0), {})
    // η = 0.5: [1 + 0.25, 2 − 0.125, 3]
    expect(Array.from(y)).toEqual([1.25, 1.875, 3])
  })

  it('fedavgm: m = β·m + Δ; x += η·m (two steps, defaults η = 1, β = 0.9)', () => {
    const opt = createServerOptimizer({ name: 'fedavgm' })
    const x = f32(1, 2, 3)
    const state: ServerOptimizerState = {}
    const delta = f32(0.5, -0.25, 0)
    opt.step(x, delta, state)
    // step 1: m = 0.9·0 + Δ = [0.5, −0.25, 0];  x = [1.5, 1.75, 3] (the same as fedavg)
    expectClose(state.m, [0.5, -0.25, 0])
    expectClose(x, [1.5, 1.75, 3])
    opt.step(x, delta, state)
    // step 2: m = 0.9·[0.5, −0.25, 0] + [0.5, −0.25, 0] = 1.9·Δ = [0.95, −0.475, 0]
    //         x = [1.5 + 0.95, 1.75 − 0.475, 3] = [2.45, 1.275, 3]
    expectClose(state.m, [0.95, -0.475, 0])
    expectClose(x, [2.45, 1.275, 3])
    expect(state.v).toBeUndefined()
  })

  it('fedadam: m = β1·m + (1−β1)·Δ; v = β2·v + (1−β2)·Δ²; x += η·m/(√v + τ)', () => {
    // Round numbers: η = 1, β1 = 0.5, β2 = 0.5, τ = 1, so v₋₁ = τ² = 1.
    const opt = createServerOptimizer({ name: 'fedadam', learningRate: 1, beta1: 0.5, beta2: 0.5, tau: 1 })
    const x = f32(1, 2, 3)
    const state: ServerOptimizerState = {}
    opt.step(x, f32(1, -7, 0), state)
    // m = 0.5·0 + 0.5·[1, −7, 0]            = [0.5, −3.5, 0]
    // v = 0.5·1 + 0.5·[1, 49, 0]            = [1, 25, 0.5]
    // √v + τ = [1 + 1, 5 + 1, √0.5 + 1]     = [2, 6, 1.7071…]
    // x = [1 + 0.5/2, 2 − 3.5/6, 3 + 0]     = [1.25, 2 − 0.583333…, 3] = [1.25, 1.416667, 3]
    expectClose(state.m, [0.5, -3.5, 0])
    expectClose(state.v, [1, 25, 0.5])
    expectClose(x, [1.25, 1.4166667, 3])
  })

  it("fedadam with the paper's defaults (β1 = 0.9, β2 = 0.99, τ = 1e-3, v₋₁ = τ² = 1e-6) and η = 0.01", () => {
    const opt = createServerOptimizer({ name: 'fedadam' })
    const x = f32(1, 2, 3)
    const state: ServerOptimizerState = {}
    opt.step(x, f32(0.5, -0.25, 0), state)
    // m = 0.1·Δ                                   = [0.05, −0.025, 0]
    // v = 0.99·1e-6 + 0.01·[0.25, 0.0625, 0]      = [0.00250099, 0.00062599, 0.00000099]
    // √v ≈ [0.0500099, 0.0250198, 0.000995];  √v + τ ≈ [0.0510099, 0.0260198, …]
    // η·m/(√v + τ) ≈ 0.01·[0.05/0.0510099, −0.025/0.0260198, 0] = 0.01·[0.980202, −0.960807, 0]
    // x ≈ [1.0098020, 1.9903919, 3] — about η per coordinate, whatever the scale of Δ
    expectClose(state.m, [0.05, -0.025, 0])
    expectClose(state.v, [0.00250099, 0.00062599, 0.00000099], 9)
    expectClose(x, [1.009802, 1.9903919, 3])
  })

  it('fedyogi: v = v − (1−β2)·Δ²·sign(v − Δ²), two steps showing the sign rule', () => {
    // η = 1, β1 = 0.5, β2 = 0.5, τ = 1, so v₋₁ = τ² = 1 and (1−β2) = 0.5.
    const opt = createServerOptimizer({ name: 'fedyogi', learningRate: 1, beta1: 0.5, beta2: 0.5, tau: 1 })
    const x = f32(1, 2, 3)
    const state: ServerOptimizerState = {}

    opt.step(x, f32(-4, 1, 0), state)
    // Δ² = [16, 1, 0];  v − Δ² = [1−16, 1−1, 1−0] = [−15, 0, 1];  sign = [−1, 0, +1]
    // v = [1 + 0.5·16, 1 − 0.5·1·0, 1 − 0.5·0·1] = [9, 1, 1]
    // m = 0.5·[−4, 1, 0] = [−2, 0.5, 0]
    // x = [1 − 2/(3+1), 2 + 0.5/(1+1), 3] = [0.5, 2.25, 3]
    expectClose(state.v, [9, 1, 1])
    expectClose(state.m, [-2, 0.5, 0])
    expectClose(x, [0.5, 2.25, 3])

    opt.step(x, f32(2, 4, 0), state)
    // Δ² = [4, 16, 0];  v − Δ² = [9−4, 1−16, 1−0] = [5, −15, 1];  sign = [+1, −1, +1]
    // v = [9 − 0.5·4, 1 + 0.5·16, 1 − 0] = [7, 9, 1]
    //   element 0: v > Δ² so v shrinks by the additive (1−β2)·Δ² = 2, to 7 (Adam: 0.5·9 + 0.5·4 = 6.5);
    //   element 2: Δ = 0 leaves v at 1 (Adam would decay it to 0.5).
    // m = 0.5·[−2, 0.5, 0] + 0.5·[2, 4, 0] = [0, 2.25, 0]
    // x = [0.5 + 0, 2.25 + 2.25/(3+1), 3] = [0.5, 2.8125, 3]
    expectClose(state.v, [7, 9, 1])
    expectClose(state.m, [0, 2.25, 0])
    expectClose(x, [0.5, 2.8125, 3])
  })

  it('fedadagrad: v = v + Δ²', () => {
    // η = 1, β1 = 0.5, τ = 1, v₋₁ = τ² = 1 (β2 is not used).
    const opt = createServerOptimizer({ name: 'fedadagrad', learningRate: 1, beta1: 0.5, tau: 1 })
    const x = f32(1, 2, 3)
    const state: ServerOptimizerState = {}
    opt.step(x, f32(0.75, -2.4, 0), state)
    // v = 1 + [0.5625, 5.76, 0]  = [1.5625, 6.76, 1];  √v = [1.25, 2.6, 1]
    // m = 0.5·[0.75, −2.4, 0]    = [0.375, −1.2, 0]
    // x = [1 + 0.375/2.25, 2 − 1.2/3.6, 3] = [1 + 1/6, 2 − 1/3, 3] = [1.1666667, 1.6666667, 3]
    expectClose(state.v, [1.5625, 6.76, 1], 5)
    expectClose(state.m, [0.375, -1.2, 0])
    expectClose(x, [1.1666667, 1.6666667, 3])
  })
})

describe('createServerOptimizer, contract', () => {
  it('reuses the state buffers in place and starts v at τ²', () => {
    const opt = createServerOptimizer({ name: 'fedadam', tau: 0.01 })
    const state: ServerOptimizerState = {}
    const returned = opt.step(f32(0, 0), f32(0, 0), state)
    expect(returned).toBe(state)
    // Δ = 0: v = β2·τ² = 0.99·1e-4
    expectClose(state.v, [0.99e-4, 0.99e-4], 9)
    const { m, v } = state
    opt.step(f32(0, 0), f32(1, 1), state)
    expect(state.m).toBe(m)
    expect(state.v).toBe(v)
  })

  it('resumes from persisted plain-data state exactly as if it had never stopped', () => {
    const opt = createServerOptimizer({ name: 'fedyogi' })
    const deltas = [f32(0.3, -0.1, 0.02), f32(-0.2, 0.4, 0), f32(0.05, 0.05, -0.3)]
    const a = f32(1, 2, 3)
    const stateA: ServerOptimizerState = {}
    for (const d of deltas) opt.step(a, d, stateA)

    const b = f32(1, 2, 3)
    const stateB: ServerOptimizerState = {}
    opt.step(b, deltas[0]!, stateB)
    // what a restart sees: copies of the bytes
    const restored: ServerOptimizerState = { m: stateB.m!.slice(), v: stateB.v!.slice() }
    const fresh = createServerOptimizer({ name: 'fedyogi' })
    fresh.step(b, deltas[1]!, restored)
    fresh.step(b, deltas[2]!, restored)
    expect(Array.from(b)).toEqual(Array.from(a))
  })

  it('rejects mismatched lengths and non-finite deltas before touching params or state', () => {
    const opt = createServerOptimizer({ name: 'fedadam' })
    const x = f32(1, 2)
    const state: ServerOptimizerState = {}
    expect(() => opt.step(x, f32(1), state)).toThrow(expect.objectContaining({ code: 'shape_mismatch' }))
    expect(() => opt.step(x, f32(1, Number.NaN), state)).toThrow(/NaN at index 1/)
    expect(() => opt.step(x, f32(1, 1), { m: f32(0) })).toThrow(/state\.m has 1/)
    expect(Array.from(x)).toEqual([1, 2])
    expect(state).toEqual({})
  })

  it('rejects unknown names and out-of-range parameters', () => {
    const bad: [Parameters<typeof createServerOptimizer>[0], RegExp][] = [
      [{ name: 'fedsgd' as 'fedavg' }, /"fedsgd"/],
      [{ name: 'fedavg', learningRate: 0 }, /learningRate .* got 0/],
      [{ name: 'fedavg', learningRate: Number.POSITIVE_INFINITY }, /learningRate/],
      [{ name: 'fedavgm', momentum: 1 }, /momentum .* got 1/],
      [{ name: 'fedadam', beta1: -0.1 }, /beta1/],
      [{ name: 'fedyogi', beta2: Number.NaN }, /beta2 .* got NaN/],
      [{ name: 'fedadagrad', tau: 0 }, /tau .* got 0/],
    ]
    for (const [options, message] of bad) {
      expect(() => createServerOptimizer(options)).toThrow(AggregationError)
      expect(() => createServerOptimizer(options)).toThrow(message)
    }
  })

  it('lists and recognises every optimizer name', () => {
    expect(SERVER_OPTIMIZERS).toEqual(['fedavg', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad'])
    for (const name of SERVER_OPTIMIZERS) {
      expect(isServerOptimizerName(name)).toBe(true)
      expect(createServerOptimizer({ name }).name).toBe(name)
    }
    for (const x of ['FedAvg', 'adam', '', null, undefined, 1, {}])
      expect(isServerOptimizerName(x)).toBe(false)
  })
})
