import {
  buildSamples,
  createRng,
  type EventWeights,
  initSharedWeights,
  initUserVector,
  type SharedWeights,
} from '@fedrec/core'
import { evaluateAll, type Metrics, means, scoreRow } from './evaluate.ts'
import type { SplitDataset } from './split.ts'

export interface CentralizedOptions {
  epochs: number
  learningRate: number
  batchSize: number
  negativesPerPositive: number
  dim: number
  seed: number
  eventWeights?: EventWeights
  /** Called after every epoch with its validation and test metrics. */
  onEpoch?: (epoch: number, result: { validation: Metrics; test: Metrics }) => void
}

export interface CentralizedEpoch {
  epoch: number
  loss: number
  validation: Metrics
  test: Metrics
}

export interface CentralizedResult {
  epochs: CentralizedEpoch[]
  /** The epoch with the best validation HR@10 (ties: the earlier); its test metrics are the baseline's. */
  bestEpoch: number
  test: Metrics
  /** The weights and user vectors of the best epoch. */
  weights: SharedWeights
  userVectors: Float32Array[]
}

/**
 * The same model (u·e_i + b_i, weighted BPR on the same samples, Adam) trained with all data in one place:
 * every shopper's vector and the whole item table are parameters of one objective, minimised by minibatch
 * Adam over all shoppers' pairs together, with fresh negatives each epoch. This is the upper bound that
 * federation is measured against. Written in plain TypeScript on typed arrays rather than tfjs because
 * it needs gathers over the full tables (slow or missing on tfjs's CPU/WASM backends, see DESIGN.md); the
 * maths is the hand-written gradient of core's objective (objective.ts) summed over shoppers.
 * @example const central = trainCentralized(split, { epochs: 30, learningRate: 0.01, batchSize: 256, negativesPerPositive: 4, dim: 32, seed: 1 })
 */
export function trainCentralized(split: SplitDataset, options: CentralizedOptions): CentralizedResult {
  const { epochs, learningRate, batchSize, negativesPerPositive, dim, seed, eventWeights } = options
  const numItems = split.itemIds.length
  const rng = createRng(seed)
  const weights = initSharedWeights(numItems, dim, rng)
  const users = split.users.map(() => initUserVector(dim, rng))
  const E = weights.itemEmbedding
  const b = weights.itemBias
  const U = new Float32Array(users.length * dim)
  for (const [i, u] of users.entries()) U.set(u, i * dim)
  const adam = { E: createAdam(E.length), b: createAdam(b.length), U: createAdam(U.length) }
  const gE = new Float64Array(E.length)
  const gb = new Float64Array(b.length)
  const gU = new Float64Array(U.length)
  let step = 0

  const history: CentralizedEpoch[] = []
  let best:
    | { epoch: number; hr: number; test: Metrics; E: Float32Array; b: Float32Array; U: Float32Array }
    | undefined
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const pu: number[] = []
    const pp: number[] = []
    const pn: number[] = []
    const pw: number[] = []
    split.users.forEach((user, ui) => {
      if (user.train.length === 0) return
      const s = buildSamples(user.train, {
        numItems,
        negativesPerPositive,
        rng,
        ...(eventWeights ? { eventWeights } : {}),
      })
      for (let i = 0; i < s.count; i++) {
        pu.push(ui)
        pp.push(s.positives[i]!)
        pn.push(s.negatives[i]!)
        pw.push(s.weights[i]!)
      }
    })
    const order = Int32Array.from(pu.keys())
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1)
      ;[order[i], order[j]] = [order[j]!, order[i]!]
    }
    let lossSum = 0
    let weightSum = 0
    for (let start = 0; start < order.length; start += batchSize) {
      const end = Math.min(order.length, start + batchSize)
      let total = 0
      for (let k = start; k < end; k++) total += pw[order[k]!]!
      if (total === 0) continue
      gE.fill(0)
      gb.fill(0)
      gU.fill(0)
      for (let k = start; k < end; k++) {
        const i = order[k]!
        const u = pu[i]! * dim
        const p = pp[i]!
        const n = pn[i]!
        let sp = b[p]!
        let sn = b[n]!
        for (let c = 0; c < dim; c++) {
          sp += U[u + c]! * E[p * dim + c]!
          sn += U[u + c]! * E[n * dim + c]!
        }
        const margin = sn - sp
        // ℓ = softplus(s⁻ − s⁺), dℓ/ds⁺ = −σ(margin) = −dℓ/ds⁻ (objective.ts), normalised by Σw of the batch.
        const w = pw[i]!
        lossSum += w * softplus(margin)
        weightSum += w
        const g = (sigmoid(margin) * w) / total
        gb[p]! -= g
        gb[n]! += g
        for (let c = 0; c < dim; c++) {
          const uc = U[u + c]!
          gE[p * dim + c]! -= g * uc
          gE[n * dim + c]! += g * uc
          gU[u + c]! -= g * (E[p * dim + c]! - E[n * dim + c]!)
        }
      }
      step += 1
      adamStep(E, gE, adam.E, learningRate, step)
      adamStep(b, gb, adam.b, learningRate, step)
      adamStep(U, gU, adam.U, learningRate, step)
    }
    const vector = (index: number) => U.subarray(index * dim, (index + 1) * dim)
    const scoreFor = (_: unknown, index: number) => (row: number) => scoreRow(weights, vector(index), row)
    const validation = means(evaluateAll(split, scoreFor, 'validation'))
    const test = means(evaluateAll(split, scoreFor, 'test'))
    history.push({ epoch, loss: weightSum > 0 ? lossSum / weightSum : 0, validation, test })
    options.onEpoch?.(epoch, { validation, test })
    if (!best || validation.hr10 > best.hr) {
      best = { epoch, hr: validation.hr10, test, E: E.slice(), b: b.slice(), U: U.slice() }
    }
  }
  if (!best) throw new Error('trainCentralized: epochs must be >= 1')
  const bestU = best.U
  return {
    epochs: history,
    bestEpoch: best.epoch,
    test: best.test,
    weights: { numItems, dim, itemEmbedding: best.E, itemBias: best.b },
    userVectors: split.users.map((_, i) => bestU.slice(i * dim, (i + 1) * dim)),
  }
}

interface AdamState {
  m: Float64Array
  v: Float64Array
}

const createAdam = (n: number): AdamState => ({ m: new Float64Array(n), v: new Float64Array(n) })

/** tfjs's Adam (β1 0.9, β2 0.999, ε 1e-7, bias-corrected), the optimizer trainLocal uses. */
function adamStep(params: Float32Array, grad: Float64Array, s: AdamState, lr: number, t: number): void {
  const b1 = 0.9
  const b2 = 0.999
  const eps = 1e-7
  const c1 = 1 - b1 ** t
  const c2 = 1 - b2 ** t
  for (let i = 0; i < params.length; i++) {
    const g = grad[i]!
    const m = b1 * s.m[i]! + (1 - b1) * g
    const v = b2 * s.v[i]! + (1 - b2) * g * g
    s.m[i] = m
    s.v[i] = v
    params[i] = params[i]! - (lr * (m / c1)) / (Math.sqrt(v / c2) + eps)
  }
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x))
const softplus = (x: number): number => (x > 30 ? x : Math.log1p(Math.exp(x)))
