import {
  applyRound,
  clipDeltas,
  clipRows,
  createAccumulator,
  createRdpAccountant,
  createRng,
  createServerOptimizer,
  deltasNorm,
  initSharedWeights,
  initUserVector,
  type SequenceSettings,
  type ServerOptimizerState,
  type SharedWeights,
  sequenceSettingsOf,
  trainClientRound,
} from '@fedrec/core'
import { decodeUpdate, encodeUpdate, ITEM_BIAS, ITEM_EMBEDDING, type TensorDelta } from '@fedrec/protocol'
import type * as TF from '@tensorflow/tfjs-core'
import { createAttackObserver } from './attack-observer.ts'
import { evaluateAll, type HeldOut, means, scoreRow, shopperQuery } from './evaluate.ts'
import { DEFAULTS, type SimulationOptions } from './options.ts'
import type { Progress, RoundRecord } from './round-record.ts'
import { type SecureRoundStats, type SecureUpload, secureAggregateRound } from './secure-aggregation.ts'
import { mixSeed, shopperPadding } from './seeds.ts'
import type { SplitDataset, SplitUser } from './split.ts'

/** A fixed id for the encoded uploads: only their length and content are used here. */
const CLIENT_ID = '0'.repeat(32)

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

/**
 * Every evaluated shopper ranks its held-out items with its own state on the device: the pooled embeddings
 * of what it had touched before (and its private vector where one is kept, zero before its first round).
 */
export function evaluateShoppers(
  split: SplitDataset,
  weights: SharedWeights,
  vectors: (Float32Array | undefined)[],
  settings: SequenceSettings,
) {
  const scoreFor = (user: SplitUser, index: number, which: HeldOut) => {
    const query = shopperQuery(weights, user, which, settings, vectors[index])
    return (row: number) => scoreRow(weights, query, row)
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
  // DP-FedAvg: clients clip to S, the accumulator clips again, weighs each update 1, adds N(0, σ²S²) to every
  // coordinate and divides by the fixed cohort size — the same core code as the aggregator's.
  const shoppers = split.users.filter((u) => u.train.length > 0).length
  const cohort = options.clientsPerRound === 'all' ? shoppers : Math.min(options.clientsPerRound, shoppers)
  const dp =
    options.dpNoiseMultiplier === undefined
      ? undefined
      : {
          clipNorm: options.dpClipNorm ?? DEFAULTS.dpClipNorm,
          noiseMultiplier: options.dpNoiseMultiplier,
          denominator: cohort,
        }
  const accumulator = createAccumulator({
    tensors: [
      { name: ITEM_EMBEDDING, rows: numItems, cols: dim },
      { name: ITEM_BIAS, rows: numItems, cols: 1 },
    ],
    rowNormalization: options.rowNormalization,
    ...(dp ? { dp } : {}),
  })
  const optimizer = createServerOptimizer({
    name: options.serverOptimizer,
    ...(options.serverLearningRate === undefined ? {} : { learningRate: options.serverLearningRate }),
  })
  const optimizerState = new Map<string, ServerOptimizerState>()
  const accountant = dp ? createRdpAccountant() : undefined
  const vectors: (Float32Array | undefined)[] = split.users.map(() => undefined)
  // Each device keeps its pseudo-items (row padding) from round to round, like its vector.
  const pseudo: (number[] | undefined)[] = split.users.map(() => undefined)
  const pool = split.users.flatMap((u, i) => (u.train.length > 0 ? [i] : []))
  const sampler = createRng(mixSeed(seed, 0xc1))
  const config = {
    mu: options.mu,
    localEpochs: options.localEpochs,
    learningRate: options.learningRate,
    negativesPerPositive: options.negativesPerPositive,
    batchSize: options.batchSize,
    padRatio: options.padRatio,
    l2: options.l2,
    contextLength: options.contextLength,
    recency: options.recency,
    privateVector: options.privateVector,
    maxTargets: options.maxTargets,
    ...(dp ? { clipNorm: dp.clipNorm } : {}),
  }
  const observer = options.attack ? createAttackObserver() : undefined
  const rounds: RoundRecord[] = []
  let shopperUpdates = 0
  let trainSeconds = 0
  for (let round = 0; round < options.rounds; round++) {
    const started = performance.now()
    let lossSum = 0
    let bytesUp = 0
    let clientSeconds = 0
    const norms: number[] = []
    // --secure-aggregation: the plain results stay on the "devices"; only masked vectors reach the server.
    const secureUploads: SecureUpload[] = []
    for (const index of sampleClients(
      pool,
      options.clientsPerRound === 'all' ? pool.length : options.clientsPerRound,
      sampler,
    )) {
      const user = split.users[index]!
      const rng = createRng(mixSeed(seed, round, index))
      const clientStarted = performance.now()
      const { result, userVector, pseudoItems } = await trainClientRound(tf, {
        weights,
        userVector: vectors[index] ?? initUserVector(dim, rng),
        events: user.train,
        config,
        rng,
        ...shopperPadding(options, seed, index, pseudo[index]),
      })
      clientSeconds += (performance.now() - clientStarted) / 1000
      vectors[index] = userVector
      pseudo[index] = pseudoItems
      if (result.sampleCount > 0 && options.secureAggregation) {
        secureUploads.push({ client: index, weight: dp ? 1 : result.sampleCount, deltas: result.deltas })
        norms.push(deltasNorm(result.deltas))
        lossSum += result.loss
      } else if (result.sampleCount > 0) {
        // The bytes the browser would send; the attacker and the accumulator read them back as the aggregator
        // would, so float16 rounding counts in the accuracy.
        const body = encodeUpdate(
          {
            round,
            modelVersion: round,
            clientId: CLIENT_ID,
            idempotencyKey: CLIENT_ID,
            sampleCount: result.sampleCount,
            tensors: result.deltas,
          },
          { dtype: options.updateDtype ?? DEFAULTS.updateDtype },
        )
        bytesUp += body.byteLength
        const sent = decodeUpdate(body).tensors
        if (observer) observer.observe(index, { numItems, tensors: sent, model: weights }, user.trainRows)
        norms.push(deltasNorm(sent))
        // The aggregator's bounds, in its order: each row first, then the whole update.
        let counted: readonly TensorDelta[] = sent
        if (options.maxRowNorm !== undefined) counted = clipRows(counted, options.maxRowNorm).deltas
        if (options.maxUpdateNorm !== undefined) counted = clipDeltas(counted, options.maxUpdateNorm).deltas
        accumulator.add({ sampleCount: result.sampleCount, tensors: counted })
        lossSum += result.loss
      }
      shopperUpdates += 1
      progress.client?.()
    }
    let secure: SecureRoundStats | undefined
    if (options.secureAggregation) {
      secure = await secureAggregateRound({
        round,
        seed,
        numItems,
        dim,
        uploads: secureUploads,
        accumulator,
        dropout: options.secaggDropout ?? 0,
        model: weights,
        ...(observer
          ? {
              observe: (client, observed) =>
                observer.observe(client, observed, split.users[client]!.trainRows),
            }
          : {}),
      })
      clientSeconds += (secure.clientMs / 1000) * secureUploads.length
    }
    const participants = accumulator.participants
    const samples = accumulator.samples
    let updateNorm = 0
    if (participants > 0 || dp) {
      ;({ updateNorm } = applyRound(params, accumulator.result(), optimizer, optimizerState))
      accumulator.reset()
    }
    // Every shopper of the pool is in the cohort with probability cohort / pool; a fixed-size draw is
    // accounted as if it were Poisson sampling at that rate (the usual approximation; exact at 'all', q = 1).
    if (dp) accountant?.compose({ sampleRate: cohort / shoppers, noiseMultiplier: dp.noiseMultiplier })
    trainSeconds += (performance.now() - started) / 1000
    const { test, validation } = evaluateShoppers(split, weights, vectors, sequenceSettingsOf(config))
    const record: RoundRecord = {
      round: round + 1,
      modelVersion: round + 1,
      participants,
      samples,
      loss: participants > 0 ? lossSum / participants : 0,
      updateNorm,
      hr10: test.hr10,
      ndcg10: test.ndcg10,
      validation,
      seconds: (performance.now() - started) / 1000,
      bytesUp: participants > 0 ? bytesUp / participants : 0,
      clientSeconds: participants > 0 ? clientSeconds / participants : 0,
    }
    if (norms.length > 0) record.clientNorm = quantiles(norms)
    if (secure) {
      record.bytesUp = secure.bytesUp
      record.secureAggregation = secure
    }
    if (accountant) record.epsilon = accountant.epsilon(options.dpDelta ?? 1e-5)
    const attack = observer?.endRound()
    if (attack) record.attack = attack
    rounds.push(record)
    progress.round?.(record)
  }
  return { rounds, weights, userVectors: vectors, shopperUpdates, trainSeconds }
}

/** Median, 90th percentile (nearest rank) and maximum of a non-empty list. */
function quantiles(values: number[]): { median: number; p90: number; max: number } {
  const sorted = values.slice().sort((a, b) => a - b)
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
  return { median: at(0.5), p90: at(0.9), max: sorted[sorted.length - 1]! }
}
