import {
  type BackendName,
  createRng,
  createScorer,
  type EventWeights,
  initUserVector,
  isWebGLContextLost,
  type RowEvent,
  type Scorer,
  type SharedWeights,
  selectBackend,
  sequenceQuery,
  sequenceSettingsOf,
  sharedWeightsFromSnapshot,
  trainClientRound,
} from '@fedrec/core'
import {
  decodeModel,
  encodeUpdate,
  MODEL_MEDIA_TYPE,
  newRandomId,
  parseRoundInfo,
  parseUpdateAck,
  type RoundConfig,
  type RoundInfo,
  UPDATE_MEDIA_TYPE,
} from '@fedrec/protocol'
import type * as tfjs from '@tensorflow/tfjs-core'
import createDebug from 'debug'
import {
  clearAll,
  type FedrecDatabase,
  healProfile,
  isStoredModel,
  openFedrecDB,
  type PendingUpload,
  readEvents,
  type StoredEvent,
  type StoredModel,
  type StoredProfile,
} from './db.ts'
import { FedrecError } from './errors.ts'
import { LEAVE_OUT, type LeaveOut } from './events.ts'
import { fetchModelSince } from './model-download.ts'
import { DEFAULT_RETRY, fetchWithRetry, RejectedError, type RetryPolicy } from './net.ts'
import { type SecureSyncResult, secureSync } from './secagg-sync.ts'
import {
  hasPopularitySignal,
  nearestRow,
  type SuggestionSet,
  type SuggestRequest,
  topByBias,
} from './suggest.ts'

const log = createDebug('fedrec:browser:engine')

/** What one `sync()` did. */
export interface SyncReport {
  /** The round this device trained for. */
  round: number
  /** The global model version it trained on. */
  modelVersion: number
  /** The tfjs backend that trained: 'webgl', then 'wasm', then 'cpu' as fallbacks. */
  backend: BackendName
  /** n_k: training samples (positive/negative pairs) used; 0 when there was nothing to learn from. */
  samples: number
  /** Mean training loss of the last local epoch (NaN when nothing was trained). */
  loss: number
  /** Bytes this round sent: the update body (0 when nothing was uploaded). */
  bytesUp: number
  /** Bytes this round received: round info, model (0 when the cached one was current) and ack bodies. */
  bytesDown: number
  /** Wall time of the whole round on this device. */
  ms: number
  /** Whether an update was uploaded and acknowledged. */
  uploaded: boolean
  /** Where the time of the last attempt went (for benchmarks and profiling). */
  phases?: SyncPhases
  /** True when this sync sent again the update of an earlier sync of the round that was cut off. */
  resumed?: boolean
}

/** Wall time in ms of each part of one sync attempt; together about `ms`. */
export interface SyncPhases {
  /** GET /v1/round. */
  roundInfo: number
  /** The model made current: from memory, IndexedDB or the network, decoded. */
  model: number
  /** Choosing the tfjs backend (its first initialisation only). */
  backend: number
  /** The profile and the history read from IndexedDB. */
  history: number
  /** Next-item examples of the history and local training. */
  train: number
  /** Encoding the update. */
  encode: number
  /** POST /v1/updates until its ack. */
  upload: number
  /** IndexedDB writes: the profile (private vector, pseudo-items) and the round contributed to. */
  store: number
}

/** One recommended item, best first. */
export interface Recommendation {
  itemId: string
  score: number
}

export interface EngineConfig {
  endpoint: string
  dbName: string
  backends: BackendName[]
  eventWeights?: EventWeights
  retry?: RetryPolicy
}

interface LoadedModel {
  version: number
  weights: SharedWeights
  itemIds: string[]
  rowOf: Map<string, number>
}

/**
 * The worker side of the library: owns tfjs, the cached model, training and scoring. The page talks to it
 * only through comlink. Exported (rather than hidden in worker.ts) so it can be tested in a real browser.
 */
export class Engine {
  private backend: BackendName | null = null
  /** The backend choice under way, shared by concurrent first calls. */
  private choosing: Promise<BackendName> | null = null
  private model: LoadedModel | null = null
  /** The encoded form of the cached model (see `cachedModel`). */
  private storedModel: StoredModel | null = null
  private scorer: Scorer | null = null
  /** The round config of the last sync: its sequence settings shape the shopper's state when recommending. */
  private lastConfig: RoundConfig | null = null
  private inFlight: Promise<SyncReport> | null = null
  private readonly retry: RetryPolicy

  private constructor(
    private readonly tf: typeof tfjs,
    private readonly db: FedrecDatabase,
    private readonly config: EngineConfig,
  ) {
    this.retry = config.retry ?? DEFAULT_RETRY
  }

  static async create(tf: typeof tfjs, config: EngineConfig): Promise<Engine> {
    let db: FedrecDatabase
    try {
      db = await openFedrecDB(config.dbName)
    } catch (cause) {
      throw new FedrecError('storage', `cannot open IndexedDB "${config.dbName}": ${String(cause)}`, {
        cause,
      })
    }
    return new Engine(tf, db, config)
  }

  private url(path: string): string {
    return new URL(path, this.config.endpoint).toString()
  }

  /**
   * The backend in use, choosing one on first call: the configured order, first that works. Concurrent first
   * calls (the widget's suggestion and a sync, say) share one choice: two interleaved `tf.setBackend` runs
   * tear down each other's backend mid-initialisation.
   */
  ensureBackend(): Promise<BackendName> {
    if (this.backend) return Promise.resolve(this.backend)
    this.choosing ??= this.chooseBackend().finally(() => {
      this.choosing = null
    })
    return this.choosing
  }

  private async chooseBackend(): Promise<BackendName> {
    try {
      this.backend = await selectBackend(this.tf, this.config.backends)
    } catch (cause) {
      throw new FedrecError(
        'no_backend',
        `no tfjs backend works here (tried ${this.config.backends.join(', ')})`,
        {
          cause,
        },
      )
    }
    log('backend %s', this.backend)
    return this.backend
  }

  /** A lost WebGL context does not make tfjs throw: ask, and treat it as the backend failing. */
  private checkContext(): void {
    if (isWebGLContextLost(this.tf)) throw new Error('the WebGL context was lost')
  }

  /**
   * Work on the GPU that never finishes once the context is lost (tfjs waits for a fence that no longer
   * signals): race it against a check of the context, so a loss mid-training fails over instead of hanging.
   */
  private untilContextLost<T>(work: Promise<T>): Promise<T> {
    // Only a WebGL context can be lost: on WASM and CPU there is nothing to poll.
    if (this.tf.getBackend() !== 'webgl') return work
    let timer: ReturnType<typeof setInterval> | undefined
    const lost = new Promise<never>((_, reject) => {
      timer = setInterval(() => {
        if (isWebGLContextLost(this.tf)) reject(new Error('the WebGL context was lost'))
      }, 100)
    })
    return Promise.race([work, lost]).finally(() => clearInterval(timer))
  }

  /** Drops a backend that failed mid-work (e.g. a lost WebGL context) and moves to the next one. */
  private async fallBack(failed: BackendName, cause: unknown): Promise<BackendName> {
    const rest = this.config.backends.slice(this.config.backends.indexOf(failed) + 1)
    log('backend %s failed (%o); falling back to %o', failed, cause, rest)
    this.disposeScorer()
    this.backend = null
    if (rest.length === 0) {
      const why = cause instanceof Error ? cause.message : String(cause)
      throw new FedrecError('no_backend', `backend ${failed} failed (${why}) and none is left to try`, {
        cause,
      })
    }
    this.config.backends = rest
    return this.ensureBackend()
  }

  /** One federated round. Concurrent calls share the round in progress instead of training twice. */
  sync(): Promise<SyncReport> {
    this.inFlight ??= this.runSyncLocked().finally(() => {
      this.inFlight = null
    })
    return this.inFlight
  }

  /**
   * One tab at a time per database (Web Locks, shared by every tab and worker of the origin): a second tab
   * of the same shopper waits, then finds this round already contributed and does not train or upload.
   */
  private async runSyncLocked(): Promise<SyncReport> {
    const locks = globalThis.navigator?.locks
    if (!locks) return this.runSync()
    return await locks.request(`fedrec:sync:${this.config.dbName}`, () => this.runSync())
  }

  /** `carry`: what an earlier attempt of the same round already cost, so the report counts all of it. */
  private async runSync(
    carry = { attempt: 0, started: performance.now(), bytesDown: 0, bytesUp: 0 },
  ): Promise<SyncReport> {
    const { attempt, started } = carry
    let bytesDown = carry.bytesDown
    const phases = newPhases()
    const roundText = await timed(phases, 'roundInfo', async () => {
      const res = await fetchWithRetry(this.url('v1/round'), { cache: 'no-store' }, this.retry)
      return res.text()
    })
    bytesDown += byteLength(roundText)
    const info = parseRoundInfo(JSON.parse(roundText))
    this.lastConfig = info.config
    bytesDown += await timed(phases, 'model', () => this.ensureModel(info.modelVersion))
    const model = this.model!
    const backend = await timed(phases, 'backend', () => this.ensureBackend())
    const profile = await timed(phases, 'history', () => this.readProfile())
    const base = { round: info.round, modelVersion: model.version, backend, bytesDown, phases }
    const nothingUploaded = (): SyncReport => ({
      ...base,
      samples: 0,
      loss: Number.NaN,
      bytesUp: carry.bytesUp,
      ms: performance.now() - started,
      uploaded: false,
    })

    if (profile.lastRound === info.round) {
      // This device already contributed to this round (e.g. from another tab): nothing to add.
      return nothingUploaded()
    }
    const left = profile.pendingUpload
    if (
      left?.round === info.round &&
      left.modelVersion === info.modelVersion &&
      !info.config.secureAggregation
    ) {
      // The last sync of this round was cut off (the shopper navigated away) after its update was stored,
      // perhaps after it was sent: send the same bytes again rather than train again. The aggregator counts
      // an update once however often it arrives.
      log('resending the update of round %d left by an interrupted sync', info.round)
      return this.deliver(left, { ...base, resumed: true }, carry, phases)
    }
    const events: RowEvent[] = []
    for (const e of await timed(phases, 'history', () => readEvents(this.db))) {
      const row = model.rowOf.get(e.itemId)
      if (row !== undefined) events.push({ type: e.type, row })
    }
    if (events.length === 0) {
      return nothingUploaded()
    }

    const trained = await timed(phases, 'train', () => this.train(info, model.weights, profile, events))
    // A history of one distinct item has no next item to learn from: nothing to upload this round.
    if (trained.result.sampleCount === 0) return nothingUploaded()
    const secure = info.config.secureAggregation
    if (secure) {
      // The delta leaves only masked; the user vector and the round are kept once the cohort completed
      // with it, so an aborted cohort leaves this device as it was (the next sync tries again).
      let done: SecureSyncResult
      try {
        done = await timed(phases, 'upload', () =>
          secureSync({
            url: (path) => this.url(path),
            retry: this.retry,
            info,
            config: secure,
            clientId: profile.clientId,
            deltas: trained.result.deltas,
            // Under DP-FedAvg every update weighs 1 (the server cannot reweight a masked one itself).
            sampleCount:
              info.config.clipNorm === undefined
                ? Math.min(trained.result.sampleCount, info.config.maxSampleCount)
                : 1,
          }),
        )
      } catch (err) {
        if (err instanceof RejectedError && err.reason === 'stale_round' && attempt === 0)
          return this.runSync({ attempt: attempt + 1, started, bytesDown, bytesUp: carry.bytesUp })
        throw err
      }
      await timed(phases, 'store', async () =>
        persist(
          'the round',
          this.db.put('profile', {
            ...(await this.readProfile()),
            userVector: trained.userVector,
            padSeed: trained.padSeed,
            pseudoItems: trained.pseudoItems,
            lastRound: info.round,
          }),
        ),
      )
      return {
        ...base,
        backend: trained.backend,
        samples: trained.result.sampleCount,
        loss: trained.result.loss,
        bytesUp: carry.bytesUp + done.bytesUp,
        bytesDown: bytesDown + done.bytesDown,
        ms: performance.now() - started,
        uploaded: true,
      }
    }
    const update = await timed(phases, 'encode', () =>
      encodeUpdate(
        {
          round: info.round,
          modelVersion: info.modelVersion,
          clientId: profile.clientId,
          idempotencyKey: newRandomId(),
          sampleCount: Math.min(trained.result.sampleCount, info.config.maxSampleCount),
          tensors: trained.result.deltas,
        },
        // As the round says; absent, the aggregator predates float16 uploads and reads only float32.
        { dtype: info.config.updateDtype ?? 'f32' },
      ),
    )
    const pending: PendingUpload = {
      round: info.round,
      modelVersion: info.modelVersion,
      bytes: update,
      samples: trained.result.sampleCount,
      loss: trained.result.loss,
    }
    await timed(phases, 'store', () =>
      persist(
        'the user vector',
        this.db.put('profile', {
          ...profile,
          userVector: trained.userVector,
          padSeed: trained.padSeed,
          pseudoItems: trained.pseudoItems,
          pendingUpload: pending,
        }),
      ),
    )
    return this.deliver(pending, { ...base, backend: trained.backend, bytesDown }, carry, phases)
  }

  /**
   * Sends a stored update until its ack, then records the round as contributed. A repeat of an update the
   * aggregator already took (same idempotency key) is answered with its first ack, so resending is safe.
   */
  private async deliver(
    pending: PendingUpload,
    base: Omit<SyncReport, 'samples' | 'loss' | 'bytesUp' | 'ms' | 'uploaded'>,
    carry: { attempt: number; started: number; bytesDown: number; bytesUp: number },
    phases: SyncPhases,
  ): Promise<SyncReport> {
    const { attempt, started } = carry
    let ackText: string
    try {
      ackText = await timed(phases, 'upload', async () => {
        const res = await fetchWithRetry(
          this.url('v1/updates'),
          { method: 'POST', headers: { 'content-type': UPDATE_MEDIA_TYPE }, body: pending.bytes },
          this.retry,
        )
        return res.text()
      })
    } catch (err) {
      const stale =
        err instanceof RejectedError &&
        ['round_closed', 'stale_model', 'future_round', 'round_reset'].includes(err.reason)
      if (stale) await this.settle({})
      if (stale && attempt === 0) {
        // The round moved on (or the operator discarded it) while we trained: start again on the current
        // round and model with a fresh update, once.
        log('round moved on (%s); retraining', (err as RejectedError).reason)
        return this.runSync({
          attempt: attempt + 1,
          started,
          bytesDown: base.bytesDown,
          bytesUp: carry.bytesUp + pending.bytes.byteLength,
        })
      }
      if (err instanceof RejectedError && err.reason === 'already_submitted') {
        await this.settle({ lastRound: pending.round })
        throw new FedrecError(
          'already_submitted',
          `this device already contributed to round ${pending.round}`,
        )
      }
      throw err
    }
    parseUpdateAck(JSON.parse(ackText))
    await timed(phases, 'store', () => this.settle({ lastRound: pending.round }))
    return {
      ...base,
      bytesDown: base.bytesDown + byteLength(ackText),
      samples: pending.samples,
      loss: pending.loss,
      bytesUp: carry.bytesUp + pending.bytes.byteLength,
      ms: performance.now() - started,
      uploaded: true,
    }
  }

  /** The stored update is done with (acked, refused or stale): drop it, recording the round when given. */
  private async settle(change: { lastRound?: number }): Promise<void> {
    const { pendingUpload: _done, ...profile } = await this.readProfile()
    await persist('the round', this.db.put('profile', { ...profile, ...change }))
  }

  private async train(info: RoundInfo, weights: SharedWeights, profile: StoredProfile, events: RowEvent[]) {
    const [seed, newPadSeed] = crypto.getRandomValues(new Uint32Array(2))
    const rng = createRng(seed!)
    // Row padding's secret seed and pseudo-items are the device's, kept in the profile from round to round.
    const padSeed = profile.padSeed ?? newPadSeed!
    const userVector =
      profile.userVector && profile.userVector.length === weights.dim
        ? profile.userVector
        : initUserVector(weights.dim, rng)
    let backend = await this.ensureBackend()
    for (;;) {
      try {
        // The same client round as the simulator's: next-item examples of the history train the touched rows
        // of the item table; they only leave as the update, and until the aggregate comes back scoring sees
        // the global rows (the shopper's state is recomputed from the history on every recommend).
        const {
          result,
          userVector: refitted,
          pseudoItems,
        } = await this.untilContextLost(
          trainClientRound(this.tf, {
            weights,
            userVector,
            events,
            config: info.config,
            rng,
            padSeed,
            pseudoItems: profile.pseudoItems ?? [],
            ...(this.config.eventWeights ? { eventWeights: this.config.eventWeights } : {}),
          }),
        )
        this.checkContext()
        return { result, userVector: refitted, padSeed, pseudoItems, backend }
      } catch (err) {
        // Bad input fails the same way on every backend; a backend fault (lost WebGL context, a kernel
        // error, non-finite results from low precision) is worth another backend.
        const inputError =
          err instanceof Error &&
          err.name === 'ModelError' &&
          (err as { code?: string }).code !== 'non_finite'
        if (err instanceof FedrecError || inputError) throw err
        backend = await this.fallBack(backend, err)
      }
    }
  }

  /**
   * Makes `this.model` the given version: from memory, from IndexedDB, as a patch on an older cached model
   * (only what changed, see model-download.ts), or downloaded whole. Returns the bytes downloaded.
   */
  private async ensureModel(version: number | 'latest'): Promise<number> {
    if (this.model && this.model.version === version) return 0
    const cached = await this.cachedModel()
    if (cached && cached.modelVersion === version) {
      try {
        this.setModel(new Uint8Array(cached.bytes))
        return 0
      } catch (err) {
        // Damaged on the device (its checksum fails): forget it before downloading, or the download would
        // send its ETag, hear 304 and reuse the damaged bytes on every sync.
        log('cached model v%d unreadable (%o); dropping it and downloading the whole model', version, err)
        await this.dropCachedModel()
        return this.ensureModel(version)
      }
    }
    let patchBytes = 0
    if (cached && typeof version === 'number' && cached.modelVersion < version) {
      const got = await fetchModelSince(this.url('v1/model'), cached, this.retry)
      patchBytes = got.bytesDown
      if (got.kind === 'current') {
        this.setModel(new Uint8Array(cached.bytes))
        return patchBytes
      }
      if (got.kind === 'model') {
        await this.keepModel(got.bytes, got.etag)
        return patchBytes
      }
    }
    const headers: Record<string, string> = {}
    if (cached) headers['if-none-match'] = cached.etag
    const res = await fetchWithRetry(this.url('v1/model'), { headers, cache: 'no-store' }, this.retry)
    if (res.status === 304 && cached) {
      this.setModel(new Uint8Array(cached.bytes))
      return patchBytes
    }
    const type = res.headers.get('content-type') ?? ''
    if (!type.startsWith(MODEL_MEDIA_TYPE)) {
      throw new FedrecError(
        'rejected',
        `GET /v1/model answered ${JSON.stringify(type)}, not ${MODEL_MEDIA_TYPE}`,
      )
    }
    const bytes = new Uint8Array(await res.arrayBuffer())
    await this.keepModel(bytes, res.headers.get('etag'))
    return patchBytes + bytes.byteLength
  }

  /**
   * The encoded model cached on this device: the copy this worker last stored or read, else IndexedDB's.
   * Keeping it in memory spares a read of the whole model (megabytes at 50,000 items) from IndexedDB on
   * every new version, when only a patch comes over the wire.
   */
  private async cachedModel(): Promise<StoredModel | null> {
    if (this.storedModel) return this.storedModel
    const stored: unknown = await this.db.get('model', 'current')
    this.storedModel = isStoredModel(stored) ? stored : null
    return this.storedModel
  }

  /** Forgets the cached model, in memory and in IndexedDB. */
  private async dropCachedModel(): Promise<void> {
    this.storedModel = null
    await persist('the model', this.db.delete('model', 'current'))
  }

  /** Makes an encoded model from the network current and caches it in IndexedDB under its version and ETag. */
  private async keepModel(bytes: Uint8Array, etagHeader: string | null): Promise<void> {
    let loaded: LoadedModel
    try {
      loaded = this.setModel(bytes)
    } catch (cause) {
      throw new FedrecError(
        'corrupt_model',
        `the model the aggregator sent does not decode (${cause instanceof Error ? cause.message : String(cause)}): damaged on the way or in the aggregator's store; nothing was trained on it, retry later`,
        { cause },
      )
    }
    const record: StoredModel = {
      key: 'current',
      modelVersion: loaded.version,
      etag: etagHeader ?? `"v${loaded.version}"`,
      bytes: bytes.slice().buffer,
    }
    await persist('the model', this.db.put('model', record))
    this.storedModel = record
  }

  private setModel(bytes: Uint8Array): LoadedModel {
    const snapshot = decodeModel(bytes)
    const weights = sharedWeightsFromSnapshot(snapshot)
    const rowOf = new Map<string, number>()
    for (const [row, id] of snapshot.itemIds.entries()) rowOf.set(id, row)
    this.disposeScorer()
    this.model = { version: snapshot.modelVersion, weights, itemIds: snapshot.itemIds, rowOf }
    log('model v%d: %d items × %d', snapshot.modelVersion, weights.numItems, weights.dim)
    return this.model
  }

  /** The shopper's profile; a missing one is created, a damaged one healed (see `healProfile`) and saved. */
  private async readProfile(): Promise<StoredProfile> {
    const stored: unknown = await this.db.get('profile', 'self')
    const { profile, damaged } = healProfile(stored)
    if (profile === stored) return profile
    await persist('the profile', this.db.put('profile', profile))
    if (damaged.length > 0) {
      // The shop's developer should hear of it once, in words: the device heals and carries on.
      console.warn(
        `fedrec: the profile stored on this device was damaged (${damaged.join(', ')}); it was reset — ${damaged.includes('clientId') ? 'a fresh client id, ' : ''}${damaged.includes('userVector') ? 'the taste profile is learnt again from the history, ' : ''}the history is kept`,
      )
    }
    return profile
  }

  /**
   * The k best items for this shopper, scored in the worker against the cached model: the shopper's state is
   * the pooled embeddings of their recent items (`sequenceQuery`), read from the history on this device.
   * `leaveOut` says which of the shopper's own items are not recommended again: 'carted' (default: added to
   * the cart or bought), 'bought', or 'seen' (everything they touched). With no usable history the ranking
   * is by item bias: what is popular across all shoppers.
   */
  async recommend(k: number, leaveOut: LeaveOut = 'carted'): Promise<Recommendation[]> {
    if (!this.model) {
      // No sync yet in this worker: the cached model if there is one, else whatever is current.
      const cached = await this.cachedModel()
      await this.ensureModel(cached ? cached.modelVersion : 'latest')
    }
    const model = this.model!
    const events = await readEvents(this.db)
    const query = await this.personalQuery(model, events)
    const skip = new Set<number>()
    for (const e of events) {
      const row = model.rowOf.get(e.itemId)
      if (row !== undefined && LEAVE_OUT[leaveOut].includes(e.type)) skip.add(row)
    }
    const top = await this.withScorer((s) => s.topK(query, k, skip))
    return top.map(({ row, score }) => ({ itemId: model.itemIds[row]!, score }))
  }

  /**
   * The shopper's state for scoring, on this device only: the recency-weighted embeddings of their recent
   * items under the settings of the last round config seen (core's defaults before any), plus the private
   * vector where the aggregator has clients keep one.
   */
  private async personalQuery(model: LoadedModel, events: readonly StoredEvent[]): Promise<Float32Array> {
    const rows: RowEvent[] = []
    for (const e of events) {
      const row = model.rowOf.get(e.itemId)
      if (row !== undefined) rows.push({ type: e.type, row })
    }
    const profile = await this.readProfile()
    const keep = this.lastConfig?.privateVector === true && profile.userVector?.length === model.weights.dim
    return sequenceQuery(model.weights, rows, {
      settings: sequenceSettingsOf(this.lastConfig ?? {}),
      ...(this.config.eventWeights ? { eventWeights: this.config.eventWeights } : {}),
      ...(keep && profile.userVector ? { privateVector: profile.userVector } : {}),
    })
  }

  /**
   * Recommendations with their kind and a reason per item (see `SuggestionSet`). Popularity and the
   * "why this?" neighbour are plain loops over the cached arrays; only personal and similar scoring use tfjs,
   * so a shopper whose every backend fails still gets popular items.
   */
  async suggest(request: SuggestRequest): Promise<SuggestionSet> {
    const { mode = 'for-you', k = 10, itemId, exclude = [], leaveOut = 'carted' } = request
    if (!this.model) {
      const cached = await this.cachedModel()
      await this.ensureModel(cached ? cached.modelVersion : 'latest')
    }
    const model = this.model!
    const { weights, itemIds, rowOf, version } = model
    const skip = new Set<number>()
    for (const id of exclude) {
      const row = rowOf.get(id)
      if (row !== undefined) skip.add(row)
    }
    // Most recent first, each item once: the candidates for "because you viewed …".
    const historyRows: number[] = []
    const seen = new Set<number>()
    const events = await readEvents(this.db)
    for (let i = events.length - 1; i >= 0; i--) {
      const row = rowOf.get(events[i]!.itemId)
      if (row === undefined) continue
      if (LEAVE_OUT[leaveOut].includes(events[i]!.type)) skip.add(row)
      if (!seen.has(row)) historyRows.push(row)
      seen.add(row)
    }
    const because = (row: number) => {
      const near = nearestRow(weights.itemEmbedding, weights.dim, row, historyRows.slice(0, 200))
      return near ? { itemId: itemIds[near.row]!, similarity: near.similarity } : null
    }
    const target = itemId === undefined ? undefined : rowOf.get(itemId)
    // Version 0 is the random initialisation: its neighbours mean nothing yet, so fall through.
    if (mode === 'similar' && target !== undefined && version > 0) {
      skip.add(target)
      const rows = await this.withScorer((s) => s.similarRows(target, k + skip.size))
      const items = rows.filter((r) => !skip.has(r.row)).slice(0, k)
      return {
        kind: 'similar',
        modelVersion: version,
        items: items.map((r) => ({
          itemId: itemIds[r.row]!,
          score: r.score,
          because: { itemId: itemIds[target]!, similarity: r.score },
        })),
      }
    }
    if (mode !== 'popular' && historyRows.length > 0) {
      const query = await this.personalQuery(model, events)
      const rows = await this.withScorer((s) => s.topK(query, k, skip))
      return {
        kind: 'personal',
        modelVersion: version,
        items: rows.map((r) => ({ itemId: itemIds[r.row]!, score: r.score, because: because(r.row) })),
      }
    }
    if (!hasPopularitySignal(weights.itemBias)) return { kind: 'none', modelVersion: version, items: [] }
    return {
      kind: 'popular',
      modelVersion: version,
      items: topByBias(weights.itemBias, k, (row) => skip.has(row)).map((r) => ({
        itemId: itemIds[r.row]!,
        score: r.score,
        because: null,
      })),
    }
  }

  /** Runs `work` on the scorer, moving to the next backend when one fails (as `recommend` does). */
  private async withScorer<T>(work: (scorer: Scorer) => Promise<T>): Promise<T> {
    const model = this.model!
    for (;;) {
      const backend = await this.ensureBackend()
      try {
        this.checkContext()
        this.scorer ??= createScorer(this.tf, model.weights)
        const result = await work(this.scorer)
        this.checkContext()
        return result
      } catch (err) {
        await this.fallBack(backend, err)
      }
    }
  }

  /** Erases every local trace and forgets the in-memory copies too. */
  async forget(): Promise<void> {
    await this.inFlight?.catch(() => undefined)
    this.disposeScorer()
    this.model = null
    this.storedModel = null
    await clearAll(this.db)
  }

  private disposeScorer(): void {
    this.scorer?.dispose()
    this.scorer = null
  }

  dispose(): void {
    this.disposeScorer()
    this.db.close()
  }
}

const byteLength = (text: string): number => new TextEncoder().encode(text).byteLength

const newPhases = (): SyncPhases => ({
  roundInfo: 0,
  model: 0,
  backend: 0,
  history: 0,
  train: 0,
  encode: 0,
  upload: 0,
  store: 0,
})

/** Runs `work`, adding its wall time to `phases[phase]` (also when it throws). */
async function timed<T>(phases: SyncPhases, phase: keyof SyncPhases, work: () => T | Promise<T>): Promise<T> {
  const start = performance.now()
  try {
    return await work()
  } finally {
    phases[phase] += performance.now() - start
  }
}

/** IndexedDB writes fail when the origin is out of quota (QuotaExceededError): say so with a code to act on. */
async function persist<T>(what: string, write: Promise<T>): Promise<T> {
  try {
    return await write
  } catch (cause) {
    throw new FedrecError('storage', `could not store ${what}: ${String(cause)}`, { cause })
  }
}
