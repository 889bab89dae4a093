// The server side of federated optimisation: how the aggregator moves the model along a round's mean delta.
import { AggregationError } from './errors.ts'

/**
 * The server optimizers of "Adaptive Federated Optimization" (Reddi et al., ICLR 2021): plain FedAvg, FedAvg
 * with server momentum (Hsu et al. 2019), and the adaptive FedAdam, FedYogi and FedAdagrad of Algorithm 2.
 * @example
 * const name: ServerOptimizerName = 'fedyogi'
 */
export type ServerOptimizerName = 'fedavg' | 'fedavgm' | 'fedadam' | 'fedyogi' | 'fedadagrad'

/**
 * Every {@link ServerOptimizerName}, for option lists and validation.
 * @example
 * for (const name of SERVER_OPTIMIZERS) console.info(name)
 */
export const SERVER_OPTIMIZERS: readonly ServerOptimizerName[] = Object.freeze([
  'fedavg',
  'fedavgm',
  'fedadam',
  'fedyogi',
  'fedadagrad',
])

const NAMES: ReadonlySet<string> = new Set(SERVER_OPTIMIZERS)

/**
 * Options of {@link createServerOptimizer}; a parameter the chosen optimizer does not use is ignored.
 * Defaults:
 * - `learningRate` (η): 1 for `fedavg` and `fedavgm` (η = 1 is plain FedAvg); 0.01 for the adaptive three.
 *   Without bias correction their first step moves each coordinate by about η·(1−β1)/√(1−β2) = η whatever
 *   the delta's scale, so 0.01 is a conservative start, within the range the paper's tuned grids found
 *   best (10^-2.5 … 10^0). Tune it.
 * - `momentum` (β of fedavgm): 0.9.
 * - `beta1`: 0.9, `beta2`: 0.99, `tau`: 1e-3 — the paper's values.
 * @example
 * const options: ServerOptimizerOptions = { name: 'fedadam', learningRate: 0.03 }
 */
export interface ServerOptimizerOptions {
  name: ServerOptimizerName
  learningRate?: number
  beta1?: number
  beta2?: number
  tau?: number
  momentum?: number
}

/**
 * Per-tensor optimizer state, plain Float32Arrays so the aggregator can persist it (e.g. as blobs) and hand
 * it back after a restart. `m` is the first moment (the velocity for `fedavgm`); `v` the second moment of the
 * adaptive optimizers, initialised to τ². Both are created on the first step.
 * @example
 * const state: ServerOptimizerState = {}
 * optimizer.step(params, delta, state) // state.m and state.v now exist
 */
export interface ServerOptimizerState {
  m?: Float32Array
  v?: Float32Array
}

/**
 * Applies the server update for one tensor. The pseudo-gradient is the round's mean client delta (the
 * direction the clients moved), so the server *adds* the update.
 * @example
 * const opt = createServerOptimizer({ name: 'fedavg' })
 * opt.step(params, meanDelta, state) // params += meanDelta
 */
export interface ServerOptimizer {
  readonly name: ServerOptimizerName
  /** Applies one server step in place: params += update(delta); state is created on first use and updated in place. */
  step(params: Float32Array, delta: Float32Array, state: ServerOptimizerState): ServerOptimizerState
}

/**
 * Whether `x` is one of {@link SERVER_OPTIMIZERS}; use it on configuration read from outside.
 * @example
 * if (!isServerOptimizerName(config.optimizer)) throw new Error(`unknown optimizer ${config.optimizer}`)
 */
export function isServerOptimizerName(x: unknown): x is ServerOptimizerName {
  return typeof x === 'string' && NAMES.has(x)
}

/**
 * Creates a server optimizer. With Δ the mean delta, m₋₁ = 0 and v₋₁ = τ² (Algorithm 2 asks v₋₁ ≥ τ²):
 * - fedavg:     x += η·Δ
 * - fedavgm:    m = β·m + Δ;                              x += η·m
 * - fedadam:    m = β1·m + (1−β1)·Δ;  v = β2·v + (1−β2)·Δ²;               x += η·m/(√v + τ)
 * - fedyogi:    m as fedadam;         v = v − (1−β2)·Δ²·sign(v − Δ²);      x += η·m/(√v + τ)
 * - fedadagrad: m as fedadam;         v = v + Δ²;                          x += η·m/(√v + τ)
 * No bias correction, as in the paper. Throws `bad_option` on an unknown name or out-of-range parameter.
 * @example
 * const opt = createServerOptimizer({ name: 'fedyogi', learningRate: 0.01 })
 * const state: ServerOptimizerState = {}
 * opt.step(params, meanDelta, state)
 */
export function createServerOptimizer(options: ServerOptimizerOptions): ServerOptimizer {
  const { name } = options
  if (!isServerOptimizerName(name)) {
    throw new AggregationError('bad_option', `unknown server optimizer ${JSON.stringify(name)}`)
  }
  const adaptive = name === 'fedadam' || name === 'fedyogi' || name === 'fedadagrad'
  const eta = options.learningRate ?? (adaptive ? 0.01 : 1)
  const beta = options.momentum ?? 0.9
  const beta1 = options.beta1 ?? 0.9
  const beta2 = options.beta2 ?? 0.99
  const tau = options.tau ?? 1e-3
  if (!(Number.isFinite(eta) && eta > 0)) {
    throw new AggregationError('bad_option', `learningRate must be a finite number > 0, got ${eta}`)
  }
  for (const [key, value] of [
    ['momentum', beta],
    ['beta1', beta1],
    ['beta2', beta2],
  ] as const) {
    if (!(value >= 0 && value < 1)) {
      throw new AggregationError('bad_option', `${key} must be in [0, 1), got ${value}`)
    }
  }
  if (!(Number.isFinite(tau) && tau > 0)) {
    // τ > 0 keeps the denominator √v + τ away from zero.
    throw new AggregationError('bad_option', `tau must be a finite number > 0, got ${tau}`)
  }

  return {
    name,
    step(params, delta, state) {
      checkStep(params, delta, state)
      const n = params.length
      switch (name) {
        case 'fedavg':
          for (let i = 0; i < n; i++) params[i] = params[i]! + eta * delta[i]!
          return state
        case 'fedavgm': {
          state.m ??= new Float32Array(n)
          const m = state.m
          for (let i = 0; i < n; i++) {
            m[i] = beta * m[i]! + delta[i]!
            // Read back the stored float32 so a run resumed from persisted state computes the same.
            params[i] = params[i]! + eta * m[i]!
          }
          return state
        }
        case 'fedadam':
        case 'fedyogi':
        case 'fedadagrad': {
          state.m ??= new Float32Array(n)
          state.v ??= new Float32Array(n).fill(tau * tau)
          const { m, v } = state
          for (let i = 0; i < n; i++) {
            const d = delta[i]!
            const d2 = d * d
            m[i] = beta1 * m[i]! + (1 - beta1) * d
            const vi = v[i]!
            if (name === 'fedadam') v[i] = beta2 * vi + (1 - beta2) * d2
            else if (name === 'fedyogi') v[i] = vi - (1 - beta2) * d2 * Math.sign(vi - d2)
            else v[i] = vi + d2
            params[i] = params[i]! + (eta * m[i]!) / (Math.sqrt(v[i]!) + tau)
          }
          return state
        }
        default: {
          const unreachable: never = name
          throw new AggregationError('bad_option', `unknown server optimizer ${String(unreachable)}`)
        }
      }
    },
  }
}

function checkStep(params: Float32Array, delta: Float32Array, state: ServerOptimizerState): void {
  const n = params.length
  if (delta.length !== n) {
    throw new AggregationError('shape_mismatch', `delta has ${delta.length} values, params have ${n}`)
  }
  for (const key of ['m', 'v'] as const) {
    const buffer = state[key]
    if (buffer !== undefined && buffer.length !== n) {
      throw new AggregationError(
        'shape_mismatch',
        `state.${key} has ${buffer.length} values, params have ${n}`,
      )
    }
  }
  for (let i = 0; i < n; i++) {
    const d = delta[i]!
    if (!Number.isFinite(d)) {
      throw new AggregationError('non_finite', `delta value ${d} at index ${i} is not finite`)
    }
  }
}
