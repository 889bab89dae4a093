import {
  applyRound,
  createAccumulator,
  createRng,
  createServerOptimizer,
  initSharedWeights,
  initUserVector,
  type ServerOptimizerState,
  type SharedWeights,
  trainClientRound,
} from '@fedrec/core'
import { ITEM_BIAS, ITEM_EMBEDDING } from '@fedrec/protocol'
import type * as TF from '@tensorflow/tfjs-core'
import { evaluateAll, means, scoreRow } from './evaluate.ts'
import type { SimulationOptions } from './options.ts'
import type { Progress, RoundRecord } from './round-record.ts'
import { mixSeed } from './seeds.ts'
import type { SplitDataset } from './split.ts'

/** What a federated run leaves: the per-round records, the final global model and each shopper's vector. */
export interface FederatedResult {
  rounds: RoundRecord[]
  weights: SharedWeights
  /** Undefined for a shopper who never took part: the device then scores with a zero vector (by bias). */
  userVectors: (Float32Array | undefined)[]
  shopperUpdates: number
  trainSeconds: number
}

/**
 * Draws `k` distinct shoppers of `pool` for a round (a partial Fisher–Yates on a copy).
 * @example sampleClients([0, 1, 2, 3], 2, createRng(1)) // e.g. [2, 0]
 */
export function sampleClients(
  pool: readonly number[],
  k: number,
  rng: ReturnType<typeof createRng>,
): number[] {
  const a = pool.slice()
  const m = Math.min(k, a.length)
  for (let j = 0; j < m; j++) {
    const i = j + rng.int(a.length - j)
    ;[a[j], a[i]] = [a[i]!, a[j]!]
  }
  return a.slice(0, m)
}

/** The mean of `sums` evaluated with each shopper's current vector (zero before its first round). */
export function evaluateShoppers(
  split: SplitDataset,
  weights: SharedWeights,
  vectors: (Float32Array | undefined)[],
) {
  const zero = new Float32Array(weights.dim)
  const scoreFor = (_: unknown, index: number) => {
    const u = vectors[index] ?? zero
    return (row: number) => scoreRow(weights, u, row)
  }
  return {
    test: means(evaluateAll(split, scoreFor, 'test')),
    validation: means(evaluateAll(split, scoreFor, 'validation')),
  }
}

/**
 * Federated training in one process: every sampled shopper runs core's `trainClientRound` (what the browser's
 * worker runs) on the round's global model, the deltas go through core's streaming accumulator and the
 * server optimizer exactly as in the aggregator, and after each round every evaluated shopper ranks its own
 * held-out item with its own vector against the new global model.
 * @example const fed = await runFederated(tf, split, options, { round: (r) => console.info(r.hr10) })
 */
export async function runFederated(
  tf: typeof TF,
  split: SplitDataset,
  options: SimulationOptions,
  progress: Progress = {},
): Promise<FederatedResult> {
  const { dim, seed } = options
  const numItems = split.itemIds.length
  const weights = initSharedWeights(numItems, dim, createRng(seed))
  const params = new Map([
    [ITEM_EMBEDDING, weights.itemEmbedding],
    [ITEM_BIAS, weights.itemBias],
  ])
  const accumulator = createAccumulator({
    tensors: [
      { name: ITEM_EMBEDDING, rows: numItems, cols: dim },
      { name: ITEM_BIAS, rows: numItems, cols: 1 },
    ],
    rowNormalization: options.rowNormalization,
  })
  const optimizer = createServerOptimizer({
    name: options.serverOptimizer,
    ...(options.serverLearningRate === undefined ? {} : { learningRate: options.serverLearningRate }),
  })
  const optimizerState = new Map<string, ServerOptimizerState>()
  const vectors: (Float32Array | undefined)[] = split.users.map(() => undefined)
  const pool = split.users.flatMap((u, i) => (u.train.length > 0 ? [i] : []))
  const sampler = createRng(mixSeed(seed, 0xc1))
  const config = {
    mu: options.mu,
    localEpochs: options.localEpochs,
    learningRate: options.learningRate,
    negativesPerPositive: options.negativesPerPositive,
    batchSize: options.batchSize,
  }
  const rounds: RoundRecord[] = []
  let shopperUpdates = 0
  let trainSeconds = 0
  for (let round = 0; round < options.rounds; round++) {
    const started = performance.now()
    let lossSum = 0
    for (const index of sampleClients(
      pool,
      options.clientsPerRound === 'all' ? pool.length : options.clientsPerRound,
      sampler,
    )) {
      const user = split.users[index]!
      const rng = createRng(mixSeed(seed, round, index))
      const { result, userVector } = await trainClientRound(tf, {
        weights,
        userVector: vectors[index] ?? initUserVector(dim, rng),
        events: user.train,
        config,
        rng,
      })
      vectors[index] = userVector
      if (result.sampleCount > 0) {
        accumulator.add({ sampleCount: result.sampleCount, tensors: result.deltas })
        lossSum += result.loss
      }
      shopperUpdates += 1
      progress.client?.()
    }
    const participants = accumulator.participants
    const samples = accumulator.samples
    let updateNorm = 0
    if (participants > 0) {
      ;({ updateNorm } = applyRound(params, accumulator.result(), optimizer, optimizerState))
      accumulator.reset()
    }
    trainSeconds += (performance.now() - started) / 1000
    const { test, validation } = evaluateShoppers(split, weights, vectors)
    const record: RoundRecord = {
      round,
      modelVersion: round + 1,
      participants,
      samples,
      loss: participants > 0 ? lossSum / participants : 0,
      updateNorm,
      hr10: test.hr10,
      ndcg10: test.ndcg10,
      validation,
      seconds: (performance.now() - started) / 1000,
    }
    rounds.push(record)
    progress.round?.(record)
  }
  return { rounds, weights, userVectors: vectors, shopperUpdates, trainSeconds }
}
