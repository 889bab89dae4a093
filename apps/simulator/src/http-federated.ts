// Federated training against a running aggregator, every shopper speaking the wire protocol through its client.
import { createRng, initUserVector, sequenceSettingsOf, trainClientRound } from '@fedrec/core/client'
import {
  ClientError,
  createProtocolClient,
  decodeUpdate,
  encodeUpdate,
  isRefusal,
  newRandomId,
  type ProtocolClient,
  RETRAIN_CODES,
  RejectedError,
  type RoundInfo,
} from '@fedrec/protocol'
import type * as TF from '@tensorflow/tfjs-core'
import { createAttackObserver } from './attack-observer.ts'
import { SimulationError } from './errors.ts'
import { means } from './evaluate.ts'
import { type FederatedResult, sampleClients } from './federated.ts'
import { evaluateHere, postEvaluations } from './http-evaluation.ts'
import { createModelFollower, type Model, remapWeights, toModel } from './http-model.ts'
import type { SimulationOptions } from './options.ts'
import type { Progress, RoundRecord } from './round-record.ts'
import { mixSeed, shopperPadding } from './seeds.ts'
import type { SplitDataset } from './split.ts'

/** What the shoppers keep from round to round, by split user index. */
interface Shoppers {
  clientIds: string[]
  vectors: (Float32Array | undefined)[]
  /** Each device keeps its pseudo-items (row padding) from round to round, like its vector. */
  pseudo: (number[] | undefined)[]
}

/** What the sampled shoppers of one round did. */
interface RoundWork {
  participants: number
  samples: number
  lossSum: number
  bytesUp: number
  clientSeconds: number
  /** Only a shopper whose update was accepted may report on the model it helped make. */
  accepted: Set<number>
}

/**
 * Federated training against a running aggregator, every shopper speaking the real wire protocol as the
 * browser does, through the same client (`createProtocolClient`): `GET /v1/round`, `GET /v1/model`
 * (ETag / If-None-Match, patches), core's `trainClientRound` with the round's config, a binary
 * `POST /v1/updates`; the round closes on the aggregator's quorum, so each round samples `minClients`
 * shoppers. After each round every evaluated shopper ranks its held-out item locally and sends only its
 * sums with `POST /v1/evaluations` (a 404 — an aggregator without the endpoint — is warned about once; the
 * local sums are kept either way).
 * The aggregator must know the data set's items: start it with `--catalogue` on the file the simulator's
 * `--write-catalogue` writes.
 */
export async function runFederatedHttp(
  tf: typeof TF,
  split: SplitDataset,
  options: SimulationOptions & { endpoint: string },
  progress: Progress = {},
): Promise<FederatedResult> {
  try {
    return await runRounds(tf, split, options, progress)
  } catch (err) {
    if (err instanceof ClientError) throw new SimulationError('http', err.message, { cause: err })
    throw err
  }
}

async function runRounds(
  tf: typeof TF,
  split: SplitDataset,
  options: SimulationOptions & { endpoint: string },
  progress: Progress,
): Promise<FederatedResult> {
  const client = createProtocolClient({ baseUrl: options.endpoint })
  const follow = createModelFollower(client, split, progress)
  const shoppers: Shoppers = {
    clientIds: split.users.map(() => newRandomId()),
    vectors: split.users.map(() => undefined),
    pseudo: split.users.map(() => undefined),
  }
  const sampler = createRng(mixSeed(options.seed, 0xc1))
  let model: Model | undefined
  let evaluationsMissing = false
  const rounds: RoundRecord[] = []
  const counts = { shopperUpdates: 0, trainSeconds: 0 }
  const pool = split.users.flatMap((u, i) => (u.train.length > 0 ? [i] : []))
  // The attack sees what the simulator sends, in the aggregator's rows.
  const observer = options.attack ? createAttackObserver() : undefined
  for (let r = 0; r < options.rounds; r++) {
    const started = performance.now()
    const info = await client.roundInfo()
    model = await follow(model)
    const sampled = sampleClients(pool, info.config.minClients, sampler)
    const work = await trainRound(
      { tf, client, split, options, progress, shoppers, observer, counts },
      info,
      model,
      r,
      sampled,
    )
    counts.trainSeconds += (performance.now() - started) / 1000

    const next = await client.roundInfo()
    if (next.modelVersion === info.modelVersion) {
      progress.warn?.(
        `round ${info.round} is still open after ${work.participants} updates (is --min-clients larger than the pool?)`,
      )
    }
    model = await follow(model)
    const evaluated = evaluateHere(split, model, shoppers.vectors, sequenceSettingsOf(info.config))
    const reports = evaluated.perUser.flatMap((u) =>
      work.accepted.has(u.index) ? [{ ...u, clientId: shoppers.clientIds[u.index]! }] : [],
    )
    if (!evaluationsMissing)
      evaluationsMissing = await postEvaluations(client, next, model.version, reports, progress)
    const { participants } = work
    const record: RoundRecord = {
      round: info.round + 1,
      modelVersion: model.version,
      participants,
      samples: work.samples,
      loss: participants > 0 ? work.lossSum / participants : 0,
      updateNorm: null,
      ...means(evaluated.test),
      validation: means(evaluated.validation),
      seconds: (performance.now() - started) / 1000,
      bytesUp: participants > 0 ? work.bytesUp / participants : 0,
      clientSeconds: participants > 0 ? work.clientSeconds / participants : 0,
    }
    if (!evaluationsMissing && reports.length > 0) {
      const sum = (f: (u: (typeof reports)[number]) => number) => reports.reduce((a, u) => a + f(u), 0)
      record.reported = {
        users: reports.length,
        hr10: sum((u) => u.hits10) / reports.length,
        ndcg10: sum((u) => u.ndcg10) / reports.length,
      }
    }
    const attack = observer?.endRound()
    if (attack) record.attack = attack
    rounds.push(record)
    progress.round?.(record)
  }
  if (!model) throw new SimulationError('bad_option', 'rounds must be >= 1')
  // Back to split rows, so Recall@20 and the results read the same as in-process.
  const weights = remapWeights(model, split.itemIds.length)
  return { rounds, weights, userVectors: shoppers.vectors, ...counts }
}

/** What a round of the sampled shoppers uses. */
interface RoundParts {
  tf: typeof TF
  client: ProtocolClient
  split: SplitDataset
  options: SimulationOptions
  progress: Progress
  shoppers: Shoppers
  observer: ReturnType<typeof createAttackObserver> | undefined
  counts: { shopperUpdates: number }
}

/** The sampled shoppers of round `r` train on `m` and upload, until the round is done or closes under them. */
async function trainRound(
  parts: RoundParts,
  info: RoundInfo,
  m: Model,
  r: number,
  sampled: Iterable<number>,
): Promise<RoundWork> {
  const { tf, client, split, options, progress, shoppers, observer } = parts
  const { config } = info
  const work: RoundWork = {
    participants: 0,
    samples: 0,
    lossSum: 0,
    bytesUp: 0,
    clientSeconds: 0,
    accepted: new Set(),
  }
  for (const index of sampled) {
    const rng = createRng(mixSeed(options.seed, r, index))
    const events = toModel(m, split.users[index]!.train)
    const clientStarted = performance.now()
    const { result, userVector, pseudoItems } = await trainClientRound(tf, {
      weights: m.weights,
      userVector: shoppers.vectors[index] ?? initUserVector(m.weights.dim, rng),
      events,
      config,
      rng,
      ...shopperPadding(options, options.seed, index, shoppers.pseudo[index]),
    })
    work.clientSeconds += (performance.now() - clientStarted) / 1000
    shoppers.vectors[index] = userVector
    shoppers.pseudo[index] = pseudoItems
    parts.counts.shopperUpdates += 1
    progress.client?.()
    if (result.sampleCount === 0) continue
    const sampleCount = Math.min(result.sampleCount, config.maxSampleCount)
    // Encoded as the round config says, like a browser (absent: an aggregator that reads only float32).
    const body = encodeUpdate(
      {
        round: info.round,
        modelVersion: info.modelVersion,
        clientId: shoppers.clientIds[index]!,
        idempotencyKey: newRandomId(),
        sampleCount,
        tensors: result.deltas,
      },
      { dtype: config.updateDtype ?? 'f32' },
    )
    if (observer) {
      const observed = { numItems: m.weights.numItems, tensors: decodeUpdate(body).tensors, model: m.weights }
      observer.observe(index, observed, new Set(events.map((e) => e.row)))
    }
    try {
      await client.postUpdate(body)
    } catch (err) {
      // The round moved on under us (its deadline): the rest of this round's shoppers would be refused too.
      if (isRefusal(err, RETRAIN_CODES)) {
        progress.warn?.(
          `round ${info.round} closed before its quorum of ${config.minClients} (${err.reason})`,
        )
        break
      }
      const hint =
        err instanceof ClientError && err.status === 429
          ? ' (every simulated shopper comes from one address: start the aggregator with --ip-rate 0 --client-rate 0)'
          : ''
      const why = err instanceof Error ? err.message : String(err)
      const what = err instanceof RejectedError ? 'was refused' : 'failed'
      throw new SimulationError('http', `POST /v1/updates ${what}: ${why}${hint}`, { cause: err })
    }
    work.accepted.add(index)
    work.bytesUp += body.byteLength
    work.participants += 1
    work.samples += sampleCount
    work.lossSum += result.loss
  }
  return work
}
