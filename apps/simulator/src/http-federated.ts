import {
  createRng,
  initUserVector,
  type RowEvent,
  type SequenceSettings,
  type SharedWeights,
  sequenceQuery,
  sequenceSettingsOf,
  sharedWeightsFromSnapshot,
  trainClientRound,
} from '@fedrec/core'
import {
  applyModelPatch,
  decodeModel,
  decodeModelPatch,
  decodeUpdate,
  encodeUpdate,
  isErrorBody,
  MODEL_MEDIA_TYPE,
  MODEL_PATCH_MEDIA_TYPE,
  newRandomId,
  parseEvaluationReport,
  parseRoundInfo,
  parseUpdateAck,
  type RoundInfo,
  UPDATE_MEDIA_TYPE,
} from '@fedrec/protocol'
import type * as TF from '@tensorflow/tfjs-core'
import createDebug from 'debug'
import { createAttackObserver } from './attack-observer.ts'
import { SimulationError } from './errors.ts'
import { contextOf, evaluateOne, type MetricSums, means, scoreRow } from './evaluate.ts'
import { type FederatedResult, sampleClients } from './federated.ts'
import type { SimulationOptions } from './options.ts'
import type { Progress, RoundRecord } from './round-record.ts'
import { mixSeed, shopperPadding } from './seeds.ts'
import type { SplitDataset } from './split.ts'

const log = createDebug('fedrec:simulator:http')

/** Evaluation reports are posted this many at a time: many shoppers, one loopback server. */
const REPORT_CONCURRENCY = 16

interface Model {
  version: number
  etag: string
  /** The model as `GET /v1/model` sends it: what the next patch applies to. */
  bytes: Uint8Array
  weights: SharedWeights
  /** Split row → model row (undefined: the model does not know the item yet). */
  modelRow: (number | undefined)[]
}

/**
 * Federated training against a running aggregator, every shopper speaking the real wire protocol as the
 * browser does: `GET /v1/round`, `GET /v1/model` (ETag / If-None-Match), core's `trainClientRound` with the
 * round's config, a binary `POST /v1/updates`; the round closes on the aggregator's quorum, so each round
 * samples `minClients` shoppers. After each round every evaluated shopper ranks its held-out item locally
 * and sends only its sums with `POST /v1/evaluations` (a 404 — an aggregator without the endpoint — is
 * warned about once; the local sums are kept either way).
 * The aggregator must know the data set's items: start it with `--catalogue` on the file the simulator's
 * `--write-catalogue` writes.
 */
export async function runFederatedHttp(
  tf: typeof TF,
  split: SplitDataset,
  options: SimulationOptions & { endpoint: string },
  progress: Progress = {},
): Promise<FederatedResult> {
  const base = options.endpoint.endsWith('/') ? options.endpoint : `${options.endpoint}/`
  const url = (path: string) => new URL(path, base).toString()
  const seed = options.seed
  const clientIds = split.users.map(() => newRandomId())
  const vectors: (Float32Array | undefined)[] = split.users.map(() => undefined)
  // Each device keeps its pseudo-items (row padding) from round to round, like its vector.
  const pseudo: (number[] | undefined)[] = split.users.map(() => undefined)
  const sampler = createRng(mixSeed(seed, 0xc1))
  let model: Model | undefined
  let evaluationsMissing = false
  let warnedUnknownItems = false
  const rounds: RoundRecord[] = []
  let shopperUpdates = 0
  let trainSeconds = 0

  const getRound = async (): Promise<RoundInfo> => parseRoundInfo(await json(await request(url('v1/round'))))
  /**
   * The current model's bytes as the browser gets them: only what changed since the model held
   * (`?since=`, a patch whose digest `applyModelPatch` checks) when the aggregator has that, else whole;
   * any trouble with the patch falls back to the whole model. `undefined`: the held model is current (304).
   */
  const getModelBytes = async (): Promise<{ bytes: Uint8Array; etag: string | null } | undefined> => {
    const headers: Record<string, string> = model ? { 'if-none-match': model.etag } : {}
    if (model) {
      try {
        const res = await request(`${url('v1/model')}?since=${model.version}`, { headers })
        if (res.status === 304) return undefined
        const type = res.headers.get('content-type') ?? ''
        const body = new Uint8Array(await res.arrayBuffer())
        const etag = res.headers.get('etag')
        // The patch type first: the model's media type is a prefix of it.
        if (type.startsWith(MODEL_PATCH_MEDIA_TYPE)) {
          const patch = decodeModelPatch(body)
          const { bytes } = await applyModelPatch(decodeModel(model.bytes), patch)
          log(
            'model v%d by a patch of %d bytes (the model is %d)',
            patch.modelVersion,
            body.length,
            bytes.length,
          )
          return { bytes, etag }
        }
        if (type.startsWith(MODEL_MEDIA_TYPE)) return { bytes: body, etag }
        throw new SimulationError('http', `GET /v1/model?since=${model.version} answered ${type}`)
      } catch (err) {
        log('no patch from model v%d (%o); downloading the whole model', model.version, err)
      }
    }
    const res = await request(url('v1/model'), { headers })
    if (res.status === 304 && model) return undefined
    const type = res.headers.get('content-type') ?? ''
    if (!type.startsWith(MODEL_MEDIA_TYPE) || type.startsWith(MODEL_PATCH_MEDIA_TYPE))
      throw new SimulationError('http', `GET /v1/model answered ${type}`)
    return { bytes: new Uint8Array(await res.arrayBuffer()), etag: res.headers.get('etag') }
  }
  const getModel = async (): Promise<Model> => {
    const got = await getModelBytes()
    if (!got) return model!
    const snapshot = decodeModel(got.bytes)
    const rowOf = new Map(snapshot.itemIds.map((id, row) => [id, row]))
    const modelRow = split.itemIds.map((id) => rowOf.get(id))
    const known = modelRow.filter((r) => r !== undefined).length
    if (known < split.itemIds.length) {
      const message = `the aggregator's model knows ${known} of the data set's ${split.itemIds.length} items; start it with --catalogue on the file --write-catalogue writes`
      if (known === 0) throw new SimulationError('http', message)
      // Once per run, not once per model version.
      if (!warnedUnknownItems) progress.warn?.(message)
      warnedUnknownItems = true
    }
    return {
      version: snapshot.modelVersion,
      etag: got.etag ?? `"v${snapshot.modelVersion}"`,
      bytes: got.bytes,
      weights: sharedWeightsFromSnapshot(snapshot),
      modelRow,
    }
  }
  const pool = split.users.flatMap((u, i) => (u.train.length > 0 ? [i] : []))
  // The attack sees what the simulator sends, in the aggregator's rows.
  const observer = options.attack ? createAttackObserver() : undefined
  for (let r = 0; r < options.rounds; r++) {
    const started = performance.now()
    const info = await getRound()
    model = await getModel()
    const m = model
    const config = info.config
    let participants = 0
    let samples = 0
    let lossSum = 0
    let bytesUp = 0
    let clientSeconds = 0
    // Only a shopper whose update was accepted may report on the model it helped make (the aggregator
    // refuses anyone else's report: 403 not_a_participant).
    const accepted = new Set<number>()
    for (const index of sampleClients(pool, config.minClients, sampler)) {
      const rng = createRng(mixSeed(seed, r, index))
      const events = toModel(m, split.users[index]!.train)
      const clientStarted = performance.now()
      const { result, userVector, pseudoItems } = await trainClientRound(tf, {
        weights: m.weights,
        userVector: vectors[index] ?? initUserVector(m.weights.dim, rng),
        events,
        config,
        rng,
        ...shopperPadding(options, seed, index, pseudo[index]),
      })
      clientSeconds += (performance.now() - clientStarted) / 1000
      vectors[index] = userVector
      pseudo[index] = pseudoItems
      shopperUpdates += 1
      progress.client?.()
      if (result.sampleCount === 0) continue
      const sampleCount = Math.min(result.sampleCount, config.maxSampleCount)
      // Encoded as the round config says, like a browser (absent: an aggregator that reads only float32).
      const body = encodeUpdate(
        {
          round: info.round,
          modelVersion: info.modelVersion,
          clientId: clientIds[index]!,
          idempotencyKey: newRandomId(),
          sampleCount,
          tensors: result.deltas,
        },
        { dtype: config.updateDtype ?? 'f32' },
      )
      if (observer) {
        const observed = {
          numItems: m.weights.numItems,
          tensors: decodeUpdate(body).tensors,
          model: m.weights,
        }
        observer.observe(index, observed, new Set(events.map((e) => e.row)))
      }
      const res = await reach(url('v1/updates'), {
        method: 'POST',
        headers: { 'content-type': UPDATE_MEDIA_TYPE },
        body,
      })
      const answer = await json(res)
      if (!res.ok) {
        const code = isErrorBody(answer) ? answer.error.code : `HTTP ${res.status}`
        // The round closed under us (its deadline): the rest of this round's shoppers would be refused too.
        if (code === 'round_closed' || code === 'stale_model') {
          progress.warn?.(`round ${info.round} closed before its quorum of ${config.minClients} (${code})`)
          break
        }
        const hint =
          res.status === 429
            ? ' (every simulated shopper comes from one address: start the aggregator with --ip-rate 0 --client-rate 0)'
            : ''
        throw new SimulationError(
          'http',
          `POST /v1/updates was refused: ${describe(answer, res.status)}${hint}`,
        )
      }
      parseUpdateAck(answer)
      accepted.add(index)
      bytesUp += body.byteLength
      participants += 1
      samples += sampleCount
      lossSum += result.loss
    }
    trainSeconds += (performance.now() - started) / 1000

    const next = await getRound()
    if (next.modelVersion === info.modelVersion) {
      progress.warn?.(
        `round ${info.round} is still open after ${participants} updates (is --min-clients larger than the pool?)`,
      )
    }
    model = await getModel()
    const evaluated = evaluateHere(split, model, vectors, sequenceSettingsOf(config))
    const reports = evaluated.perUser.flatMap((u) =>
      accepted.has(u.index) ? [{ ...u, clientId: clientIds[u.index]! }] : [],
    )
    if (!evaluationsMissing) {
      evaluationsMissing = await postEvaluations(
        url('v1/evaluations'),
        next,
        model.version,
        reports,
        progress,
      )
    }
    const record: RoundRecord = {
      round: info.round + 1,
      modelVersion: model.version,
      participants,
      samples,
      loss: participants > 0 ? lossSum / participants : 0,
      updateNorm: null,
      ...means(evaluated.test),
      validation: means(evaluated.validation),
      seconds: (performance.now() - started) / 1000,
      bytesUp: participants > 0 ? bytesUp / participants : 0,
      clientSeconds: participants > 0 ? clientSeconds / participants : 0,
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
  const m = model
  const weights = remapWeights(m, split.itemIds.length)
  return { rounds, weights, userVectors: vectors, shopperUpdates, trainSeconds }
}

/** A shopper's events in the model's rows; events on items the model lacks are dropped, as the browser does. */
function toModel(m: Model, events: readonly RowEvent[]): RowEvent[] {
  return events.flatMap((e) => {
    const row = m.modelRow[e.row]
    return row === undefined ? [] : [{ type: e.type, row }]
  })
}

/** Each shopper's own evaluation on the model, in model rows; the per-shopper sums are what it reports. */
function evaluateHere(
  split: SplitDataset,
  model: Model,
  vectors: (Float32Array | undefined)[],
  settings: SequenceSettings,
) {
  const test: MetricSums = { users: 0, hits10: 0, ndcg10: 0 }
  const validation: MetricSums = { users: 0, hits10: 0, ndcg10: 0 }
  const perUser: { index: number; hits10: number; ndcg10: number }[] = []
  for (const index of split.evalUsers) {
    const user = split.users[index]!
    // An item the model does not know scores -Infinity: it cannot be recommended.
    const scorer = (which: 'test' | 'validation') => {
      const query = sequenceQuery(model.weights, toModel(model, contextOf(user, which)), {
        settings,
        ...(vectors[index] ? { privateVector: vectors[index] } : {}),
      })
      return (row: number) => {
        const r = model.modelRow[row]
        return r === undefined ? Number.NEGATIVE_INFINITY : scoreRow(model.weights, query, r)
      }
    }
    const t = evaluateOne(scorer('test'), user.test!, user.negatives)
    const v = evaluateOne(scorer('validation'), user.validation!, user.negatives)
    test.users += 1
    test.hits10 += t.hit
    test.ndcg10 += t.ndcg
    validation.users += 1
    validation.hits10 += v.hit
    validation.ndcg10 += v.ndcg
    perUser.push({ index, hits10: t.hit, ndcg10: t.ndcg })
  }
  return { test, validation, perUser }
}

/** Posts one report per participating shopper; returns true when the aggregator has no such endpoint (404). */
async function postEvaluations(
  endpoint: string,
  info: RoundInfo,
  modelVersion: number,
  perUser: { clientId: string; hits10: number; ndcg10: number }[],
  progress: Progress,
): Promise<boolean> {
  let missing = false
  for (let start = 0; start < perUser.length && !missing; start += REPORT_CONCURRENCY) {
    await Promise.all(
      perUser.slice(start, start + REPORT_CONCURRENCY).map(async (u) => {
        const report = parseEvaluationReport({
          round: info.round,
          modelVersion,
          clientId: u.clientId,
          idempotencyKey: newRandomId(),
          users: 1,
          hits10: u.hits10,
          ndcg10: u.ndcg10,
        })
        const res = await reach(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(report),
        })
        const answer = await json(res)
        if (res.status === 404) {
          missing = true
          return
        }
        if (!res.ok)
          throw new SimulationError(
            'http',
            `POST /v1/evaluations was refused: ${describe(answer, res.status)}`,
          )
      }),
    )
  }
  if (missing)
    progress.warn?.(
      'the aggregator has no POST /v1/evaluations (404); federated metrics are summed locally only',
    )
  log('posted %d evaluation reports for model v%d', perUser.length, modelVersion)
  return missing
}

function remapWeights(model: Model, numItems: number): SharedWeights {
  const { dim } = model.weights
  const itemEmbedding = new Float32Array(numItems * dim)
  const itemBias = new Float32Array(numItems).fill(-1e9)
  model.modelRow.forEach((r, row) => {
    if (r === undefined) return
    itemEmbedding.set(model.weights.itemEmbedding.subarray(r * dim, (r + 1) * dim), row * dim)
    itemBias[row] = model.weights.itemBias[r]!
  })
  return { numItems, dim, itemEmbedding, itemBias }
}

/** `fetch` whose network failure (refused, reset, DNS) is a `SimulationError` naming the URL; any answer is returned. */
async function reach(href: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(href, init)
  } catch (err) {
    throw new SimulationError(
      'http',
      `cannot reach ${href}: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    )
  }
}

async function request(href: string, init?: RequestInit): Promise<Response> {
  const res = await reach(href, init)
  if (!res.ok && res.status !== 304) {
    throw new SimulationError('http', `${href} answered ${describe(await json(res), res.status)}`)
  }
  return res
}

async function json(res: Response): Promise<unknown> {
  const text = await res.text()
  if (text === '') return null
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

const describe = (answer: unknown, status: number): string =>
  isErrorBody(answer)
    ? `${status} ${answer.error.code}: ${answer.error.message}`
    : `${status} ${String(answer).slice(0, 200)}`
