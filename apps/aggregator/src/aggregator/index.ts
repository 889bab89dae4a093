import { randomInt } from 'node:crypto'
import {
  type Accumulator,
  applyRound,
  createAccumulator,
  createRdpAccountant,
  createRng,
  createServerOptimizer,
  DEFAULT_DIM,
  decodeSecAggSum,
  initSharedWeights,
  type RdpAccountant,
  type ServerOptimizer,
} from '@fedrec/core'
import {
  checkUpdateFits,
  decodeUpdate,
  type EvaluationReport,
  type EvaluationSummary,
  encodeModel,
  encodeUpdate,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  type ModelUpdate,
  type Privacy,
  type PublicStatus,
  parseUpdateAck,
  type RoundConfig,
  type RoundInfo,
  type RoundSummary,
  type Status,
  type UpdateAck,
} from '@fedrec/protocol'
import createDebug from 'debug'
import { logError } from '../error-log.ts'
import { StartupError } from '../errors.ts'
import { createSecAggCoordinator, type SecAggCoordinator } from '../secagg/coordinator.ts'
import { SecAggRefusal } from '../secagg/errors.ts'
import {
  type AggregatorStore,
  type OptimizerState,
  openStore,
  type PrivacyRound,
  type RoundRecord,
  type StoredModel,
  type UpdateRecord,
} from '../store/index.ts'
import { hashClientId, logTag, newClientSalt } from './client-hash.ts'
import { AggregatorError } from './errors.ts'
import { createModelPatches, modelChanges } from './model-patches.ts'
import { applyNormBound, updateNorm as normOfUpdate } from './norm-bound.ts'
import { type AggregatorOptions, type ResolvedOptions, resolveOptions } from './options.ts'
import type { RoundSettings } from './settings.ts'

export { AggregatorError, type AggregatorErrorCode } from './errors.ts'
export { applyNormBound, type NormBound, type NormPolicy, updateNorm } from './norm-bound.ts'
export { type AggregatorOptions, DEFAULTS } from './options.ts'
export { parseSettingsPatch, type RoundSettings } from './settings.ts'

const logRound = createDebug('fedrec:aggregator:round')
const logUpdate = createDebug('fedrec:aggregator:update')
const logModel = createDebug('fedrec:aggregator:model')

/** τ of the adaptive server optimizers; also the initial second moment (τ²) of rows added to the catalogue. */
const SERVER_TAU = 1e-3
/** How many closed rounds `status()` lists. */
const HISTORY_LIMIT = 1000
/**
 * Evaluation reports are taken for the current model version and this many before it: a client may
 * evaluate the model it downloaded after the round moved on, but a report on a long-gone model says
 * nothing about the current one.
 */
export const EVALUATION_WINDOW = 10
/** Rejection counters are written at most this often: a flood of bad requests must not become a flood of fsyncs. */
const REJECTION_FLUSH_MS = 1000
/** How long after a failed close on quorum the close is tried again. */
const CLOSE_RETRY_MS = 1000
/**
 * The server's DP clip lets an update through up to this factor above S: an honest client clipped to S
 * already, and float32 rounding can leave its norm a few parts in 10⁷ above; counting that as clipped would
 * make the count meaningless. The accumulator still clips to exactly S, in float64.
 */
const DP_CLIP_SLACK = 1 + 1e-6
/** setTimeout's longest delay (about 24.8 days); a later deadline is re-armed when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * What an operator reset answers (`POST /v1/round/reset`).
 * @example { round: 7, modelVersion: 7, discarded: 12, resets: 1, deadline: '2030-01-01T00:05:00.000Z' }
 */
export interface RoundReset {
  /** The round that was reset: open again under the same number. */
  round: number
  /** The model version it trains on, unchanged by the reset. */
  modelVersion: number
  /** Accepted updates this reset discarded. */
  discarded: number
  /** Resets of this round so far, this one included. */
  resets: number
  /** The reopened round's deadline: a full round length from the reset. */
  deadline: string
}

/**
 * The aggregation endpoint's domain, without HTTP: the open round, the global model and the durable store.
 *
 * Numbering: version 0 is the initial model and round r trains on model version r — the two numbers are
 * always equal while a round is open. Closing round r publishes version r + 1 and opens round r + 1. A
 * deadline that passes with no update extends the round (same round, same version) unless catalogue items
 * are pending, in which case the round closes with no optimizer step so that the new items are published.
 */
export interface Aggregator {
  /** True when this start created the store (a fresh model version 0). */
  readonly storeCreated: boolean
  /** Secure aggregation's cohorts (`--secure-aggregation`); undefined when rounds take plain updates. */
  readonly secagg: SecAggCoordinator | undefined
  /** `GET /v1/round`. */
  roundInfo(): RoundInfo
  /** The current model, encoded once per version. */
  model(): { version: number; bytes: Uint8Array }
  /**
   * `GET /v1/model?since=`: a model patch (MODEL_PATCH_MEDIA_TYPE) from version `since` (≤ the current one)
   * to the current model, or undefined when the change log does not reach back to `since` or the whole
   * model is smaller — then the whole model is the answer.
   */
  modelPatch(since: number): { version: number; bytes: Uint8Array } | undefined
  /**
   * Accepts one encoded update: stores it durably, then counts it, then closes the round on quorum; the
   * promise resolves once it is durable (updates arriving together share one transaction).
   * `decoded` is `decodeUpdate(bytes)` when the caller already has it.
   * @throws ProtocolError (malformed or misshaped update), AggregatorError (refused by the round logic)
   */
  submit(bytes: Uint8Array, decoded?: ModelUpdate): Promise<UpdateAck>
  /** `GET /v1/status` with the operator token: everything, the open round's live figures included. */
  status(): Status
  /**
   * `GET /v1/status` without a token: no figure of a round before it has closed with at least the quorum
   * (`--min-clients`; `--secagg-min-cohort` when rounds are secure-aggregated), and the evaluations of model
   * versions that no longer take reports only, so that polling it tells nothing about one client.
   */
  publicStatus(): PublicStatus
  /**
   * Participants a closed round needs before `publicStatus()` shows it: the quorum (`--min-clients`), or the
   * smallest cohort (`--secagg-min-cohort`) when rounds are secure-aggregated.
   */
  publicQuorum(): number
  /**
   * Counts one federated-evaluation report (idempotent by its key) for the current or a recent model
   * version, from a client with an accepted update in the round that trained on that version or the one
   * that published it, once per client and version.
   * @throws AggregatorError `unknown_model_version`, `evaluation_too_old`, `bad_evaluation_round`,
   * `not_a_participant`, `already_evaluated`, `idempotency_conflict`
   */
  evaluate(report: EvaluationReport): { accepted: true; modelVersion: number; duplicate: boolean }
  /** Counts a refused update under its error code (written to the store within a second). */
  recordRejection(code: string): void
  /** The settings an operator may change at run time. */
  settings(): RoundSettings
  /**
   * Changes settings until the next start. Client settings show in the next `roundInfo()`; a new deadline
   * length applies to the open round too (its opening plus the new length, now at the earliest); a lowered quorum that is already met closes the round now (a close
   * that fails is tried again every second, as on quorum).
   */
  updateSettings(patch: Partial<RoundSettings>): RoundSettings
  /**
   * The operator's reset (`POST /v1/round/reset`): discards the open round's accepted updates and its
   * accumulator in one transaction and reopens the same round on the same model version with a fresh
   * deadline. A retry of a discarded update's key then gets `round_reset`; its client may send a new update.
   * With `expectedRound`, resets only if that round is still the open one (otherwise `round_closed` or
   * `future_round`, nothing discarded): a reset aimed at a poisoned round must not hit the next one.
   */
  resetRound(expectedRound?: number): RoundReset
  /** Queues item ids for the catalogue; they join the model when the current round closes. */
  queueCatalogue(itemIds: readonly string[]): { added: number; pending: number }
  /** Closes (or extends) the round if its deadline has passed. The deadline timer calls it. */
  checkDeadline(): void
  /** Stops the timer and closes the store. */
  close(): void
}

/**
 * Opens the store (creating a fresh model if the file does not exist), replays the open round's stored
 * updates so every acknowledged update is counted exactly once, and arms the deadline timer.
 * @throws StartupError when the store is not a fedrec store, is corrupt, or contradicts the options
 * @example
 * const aggregator = createAggregator({ store: '.fedrec/aggregator.sqlite', catalogue, minClients: 3 })
 * const info = aggregator.roundInfo()
 */
export function createAggregator(options: AggregatorOptions): Aggregator {
  const opts = resolveOptions(options)
  const store = openStore(opts.store, { create: opts.createStore })
  try {
    return start(store, opts)
  } catch (err) {
    store.close()
    throw err
  }
}

function start(store: AggregatorStore, opts: ResolvedOptions): Aggregator {
  const iso = (ms: number): string => new Date(ms).toISOString()
  const deadlineMs = (): number => Math.round(opts.roundDeadlineSeconds * 1000)
  const conflict = opts.dpNoiseMultiplier === null ? null : dpConflict(opts)
  if (conflict) throw new StartupError(conflict)
  if (store.isNew) initialise(store, opts, iso(opts.now()))

  const seed = Number(store.meta('seed'))
  const salt = store.meta('client_salt') ?? ''
  if (!Number.isInteger(seed) || salt === '')
    throw new StartupError(`store ${store.path} lacks its seed or salt`)
  let model = loadModel(store)
  if (opts.dim !== undefined && opts.dim !== model.dim) {
    throw new StartupError(
      `store ${store.path} holds a model of dim ${model.dim}; --dim ${opts.dim} was given`,
    )
  }
  if (opts.seed !== undefined && opts.seed !== seed) {
    logModel('ignoring seed %d: the store was created with seed %d', opts.seed, seed)
  }
  const optimizer: ServerOptimizer = createServerOptimizer({
    name: opts.serverOptimizer,
    // undefined → the optimizer's own default (1 for fedavg/fedavgm, 0.01 for the adaptive ones).
    learningRate: opts.serverLearningRate,
    tau: SERVER_TAU,
  })
  let optimizerState = store.loadOptimizerState()
  if (store.meta('server_optimizer') !== opts.serverOptimizer) {
    // Moments of one optimizer mean nothing to another.
    if (optimizerState.size > 0)
      logModel('server optimizer is now %s: its state starts afresh', opts.serverOptimizer)
    optimizerState = new Map()
    store.transaction(() => {
      store.saveOptimizerState(optimizerState)
      store.setMeta('server_optimizer', opts.serverOptimizer)
    })
  }
  let round = store.openRound()
  if (round.modelVersion !== model.version || round.round !== model.round) {
    throw new StartupError(
      `store ${store.path} is inconsistent: open round ${round.round} is for model version ${round.modelVersion}, the stored model is version ${model.version}`,
    )
  }
  if (opts.catalogue) {
    const added = store.queueItems(opts.catalogue, iso(opts.now()))
    if (added > 0)
      logModel('%d new catalogue items queued; they join the model when round %d closes', added, round.round)
  }

  /**
   * The largest negatives per positive handed out since the open round opened: an update trained under it
   * may still arrive after an operator lowered the setting, and must not be refused for it.
   */
  let negativesCeiling = opts.negativesPerPositive
  let accumulator = newAccumulator(model, opts)
  let replayed = 0
  for (const payload of store.roundPayloads(round.round)) {
    try {
      if (!accumulator) throw new Error('the model has no items')
      accumulator.add(decodeUpdate(payload))
    } catch (err) {
      throw new StartupError(
        `store ${store.path}: stored update ${replayed} of round ${round.round} cannot be replayed (${(err as Error).message})`,
        { cause: err },
      )
    }
    replayed += 1
  }
  if (accumulator && accumulator.participants > 0) {
    logRound('round %d: replayed %d stored updates', round.round, accumulator.participants)
  }
  // The Rényi-DP account, recomputed from every closed round's stored (q, σ): it survives restarts, and
  // rounds that ran under other settings count as they ran.
  let accountant: RdpAccountant = createRdpAccountant()
  const epsilonByRound = new Map<number, number>()
  let unprotectedRounds = 0
  const account = (closedRound: number, participants: number, dp: PrivacyRound | null): void => {
    if (dp) {
      accountant.compose(dp)
      epsilonByRound.set(closedRound, accountant.epsilon(opts.dpDelta))
    } else if (participants > 0) unprotectedRounds += 1
  }
  const recomputePrivacy = (): void => {
    accountant = createRdpAccountant()
    epsilonByRound.clear()
    unprotectedRounds = 0
    for (const r of store.privacyRounds()) account(r.round, r.participants, r.dp)
  }
  recomputePrivacy()
  let encoded: { version: number; bytes: Uint8Array } | undefined
  const patches = createModelPatches(store)
  let timer: NodeJS.Timeout | undefined
  let closed = false
  const pendingRejections = new Map<string, number>()
  let rejectionTimer: NodeJS.Timeout | undefined
  const flushRejections = (): void => {
    if (rejectionTimer) clearTimeout(rejectionTimer)
    rejectionTimer = undefined
    if (pendingRejections.size === 0) return
    try {
      store.addRejections(pendingRejections)
      pendingRejections.clear()
    } catch (err) {
      // Counters only: keep them in memory and try again with the next rejection.
      logError('rejection_counters_write_failed', err)
    }
  }

  const participants = (): number => accumulator?.participants ?? 0

  // `--min-clients` plays no part in a secure-aggregated round: the cohort decides.
  const publicQuorum = (): number => opts.secureAggregation?.minCohort ?? opts.minClients

  const history = (): RoundSummary[] =>
    store.history(HISTORY_LIMIT).map((r) => {
      const epsilon = epsilonByRound.get(r.round)
      return epsilon === undefined ? toSummary(r) : { ...toSummary(r), epsilon }
    })

  /**
   * A client took part in model version v when an update of it was accepted in round v − 1 (which published
   * v) or round v (which trains on v): plainly, or in the sum of a secure-aggregation cohort.
   */
  const tookPart = (clientHash: string, modelVersion: number): boolean =>
    [modelVersion - 1, modelVersion].some(
      (r) => r >= 0 && (store.hasClientSubmitted(r, clientHash) || secagg?.tookPart(r, clientHash) === true),
    )

  /** What clients train with: part of both the round config they receive and the operator's settings. */
  const clientSettings = () => ({
    mu: opts.mu,
    localEpochs: opts.localEpochs,
    learningRate: opts.learningRate,
    negativesPerPositive: opts.negativesPerPositive,
    batchSize: opts.batchSize,
    maxSampleCount: opts.maxSampleCount,
    padRatio: opts.padRatio,
    updateDtype: opts.updateDtype,
  })

  const config = (): RoundConfig => ({
    ...clientSettings(),
    deadline: round.deadline,
    minClients: opts.minClients,
    ...(opts.dpNoiseMultiplier === null ? {} : { clipNorm: opts.dpClipNorm }),
    ...(opts.secureAggregation ? { secureAggregation: opts.secureAggregation } : {}),
  })

  /** The DP parameters of the open round, as the accountant will compose them; undefined: DP off. */
  const roundDp = (): PrivacyRound | undefined =>
    opts.dpNoiseMultiplier === null
      ? undefined
      : {
          noiseMultiplier: opts.dpNoiseMultiplier,
          clipNorm: opts.dpClipNorm,
          sampleRate: opts.dpPopulation === null ? 1 : Math.min(1, opts.minClients / opts.dpPopulation),
        }

  const privacy = (): Privacy => {
    const dp = roundDp()
    return {
      mechanism: dp ? 'gaussian' : 'none',
      noiseMultiplier: dp?.noiseMultiplier ?? null,
      clipNorm: dp?.clipNorm ?? null,
      delta: opts.dpDelta,
      sampleRate: dp?.sampleRate ?? null,
      epsilon: accountant.epsilon(opts.dpDelta),
      rounds: accountant.rounds,
      unprotectedRounds,
    }
  }

  /** A fresh accumulator for the current settings, fed the open round's stored updates (after a DP change). */
  const rebuildAccumulator = (): void => {
    commitQueue()
    const fresh = newAccumulator(model, opts)
    if (fresh) for (const payload of store.roundPayloads(round.round)) fresh.add(decodeUpdate(payload))
    accumulator = fresh
  }

  const encodedModel = (): { version: number; bytes: Uint8Array } => {
    if (encoded?.version !== model.version) {
      const bytes = encodeModel({
        modelVersion: model.version,
        round: model.round,
        itemIds: model.itemIds,
        tensors: [
          { name: ITEM_EMBEDDING, rows: model.itemIds.length, cols: model.dim, values: model.itemEmbedding },
          { name: ITEM_BIAS, rows: model.itemIds.length, cols: 1, values: model.itemBias },
        ],
      })
      encoded = { version: model.version, bytes }
    }
    return encoded
  }

  /**
   * One SQLite transaction: the new model, optimizer state, the closed round, payloads dropped, next round,
   * and `write` (secure aggregation ends its cohort in it).
   */
  const closeRound = (closedBy: 'quorum' | 'deadline', write?: () => void): void => {
    // Updates accepted for this round but not yet written belong to it: write and count them first.
    commitQueue()
    const closedAt = iso(opts.now())
    const count = participants()
    const samples = accumulator?.samples ?? 0
    let embedding = model.itemEmbedding
    let bias = model.itemBias
    let state = optimizerState
    let updateNorm = 0
    const norms = store.roundNorms(round.round)
    const dp = roundDp()
    // Under DP a round that publishes a model adds noise even with no update: whether anybody took part is
    // private too, and the accountant counts the round either way.
    if (accumulator && (count > 0 || dp)) {
      // Step copies, so a failed write leaves the served model and the state in memory untouched.
      const params = new Map([
        [ITEM_EMBEDDING, embedding.slice()],
        [ITEM_BIAS, bias.slice()],
      ])
      state = copyState(optimizerState)
      ;({ updateNorm } = applyRound(params, accumulator.result(), optimizer, state))
      embedding = params.get(ITEM_EMBEDDING)!
      bias = params.get(ITEM_BIAS)!
    }
    const pending = store.pendingItems()
    const version = model.version + 1
    if (pending.length > 0) {
      // Rows initialised like the first ones, from a generator derived from the seed and the version, so a
      // store rebuilt from the same inputs gets the same rows.
      const fresh = initSharedWeights(pending.length, model.dim, createRng(mix(seed, version)))
      embedding = concat(embedding, fresh.itemEmbedding)
      bias = concat(bias, fresh.itemBias)
      state = extendState(state, model.dim, pending.length)
    }
    const next: StoredModel = {
      version,
      round: round.round + 1,
      dim: model.dim,
      itemIds: pending.length > 0 ? [...model.itemIds, ...pending] : model.itemIds,
      itemEmbedding: embedding,
      itemBias: bias,
      createdAt: closedAt,
    }
    const nextRound = openRecord(round.round + 1, version, opts.now(), deadlineMs())
    const changes = opts.modelLogVersions > 0 ? modelChanges(model, next) : undefined
    let pruned = 0
    store.transaction(() => {
      store.saveModel(next)
      if (changes) store.insertModelChanges(changes)
      store.pruneModelChanges(version - opts.modelLogVersions)
      store.saveOptimizerState(state)
      store.closeRound(round.round, {
        closedAt,
        closedBy,
        participants: count,
        samples,
        updateNorm,
        clientNormMean: norms.mean,
        clientNormMax: norms.max,
        clipped: norms.clipped,
        ...(dp ? { dp } : {}),
      })
      store.dropPayloads(round.round)
      store.clearPendingItems()
      store.insertRound(nextRound)
      write?.()
      pruned = store.pruneUpdates(iso(opts.now() - opts.ackRetentionSeconds * 1000))
      pruned += store.pruneEvaluationKeys(version - EVALUATION_WINDOW)
    })
    if (pruned > 0) logRound('pruned %d acks and evaluation keys past their retention', pruned)
    account(round.round, count, dp ?? null)
    if (dp)
      logRound(
        'round %d: DP σ %d, S %d, q %d; ε %d at δ %d after %d DP rounds',
        round.round,
        dp.noiseMultiplier,
        dp.clipNorm,
        dp.sampleRate,
        accountant.epsilon(opts.dpDelta),
        opts.dpDelta,
        accountant.rounds,
      )
    logRound(
      'round %d closed by %s: %d participants, %d samples, update norm %d; model version %d (%d items, %d new) published',
      round.round,
      closedBy,
      count,
      samples,
      updateNorm,
      version,
      next.itemIds.length,
      pending.length,
    )
    const resized = next.itemIds.length !== model.itemIds.length
    model = next
    optimizerState = state
    round = nextRound
    negativesCeiling = opts.negativesPerPositive
    if (resized || !accumulator) accumulator = newAccumulator(model, opts)
    else accumulator.reset()
    arm()
  }

  const arm = (): void => {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (!opts.deadlineTimer || closed) return
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, Date.parse(round.deadline) - opts.now()))
    timer = setTimeout(() => {
      try {
        aggregator.checkDeadline()
      } catch (err) {
        // A failed close (disk full…) leaves the round open; try again at the next tick of the clock.
        logError('round_close_failed', err, { round: round.round, closedBy: 'deadline' })
        timer = setTimeout(arm, 1000).unref()
      }
    }, delay)
    // The HTTP server keeps the process alive; the timer alone must not.
    timer.unref()
  }

  let secagg: SecAggCoordinator | undefined
  const aggregator: Aggregator = {
    storeCreated: store.isNew,
    get secagg() {
      return secagg
    },

    roundInfo() {
      return {
        round: round.round,
        modelVersion: model.version,
        numItems: model.itemIds.length,
        dim: model.dim,
        config: config(),
      }
    },

    model: encodedModel,

    modelPatch(since) {
      if (!Number.isSafeInteger(since) || since < 0 || since > model.version) {
        throw new AggregatorError(
          'bad_since',
          `since must be a model version from 0 to the current one (${model.version}), got ${since}: pass the version of the model you hold, or fetch /v1/model without since`,
        )
      }
      const bytes = patches.since(since, model, encodedModel())
      return bytes ? { version: model.version, bytes } : undefined
    },

    submit(bytes, decoded) {
      try {
        return enqueue(bytes, decoded ?? decodeUpdate(bytes))
      } catch (err) {
        return Promise.reject(err)
      }
    },

    status() {
      return {
        round: round.round,
        modelVersion: model.version,
        participants: participants(),
        samples: accumulator?.samples ?? 0,
        numItems: model.itemIds.length,
        dim: model.dim,
        modelBytes: encodedModel().bytes.byteLength,
        serverOptimizer: opts.serverOptimizer,
        config: config(),
        history: history(),
        rejections: rejectionCounts(),
        evaluations: store.evaluations(HISTORY_LIMIT).map(toEvaluationSummary),
        resets: round.resets,
        discarded: round.discarded,
        privacy: privacy(),
      }
    },

    publicQuorum,

    publicStatus() {
      const quorum = publicQuorum()
      return {
        round: round.round,
        modelVersion: model.version,
        numItems: model.itemIds.length,
        dim: model.dim,
        modelBytes: encodedModel().bytes.byteLength,
        serverOptimizer: opts.serverOptimizer,
        config: config(),
        // A round below the quorum would show its few clients' n_k and norms (one client's, alone).
        history: history().filter((r) => r.participants >= quorum),
        // A version that still takes reports would show each new report's sums as a difference.
        evaluations: store
          .evaluations(HISTORY_LIMIT)
          .filter((e) => e.modelVersion < model.version - EVALUATION_WINDOW && e.users >= quorum)
          .map(toEvaluationSummary),
        privacy: privacy(),
      }
    },

    evaluate(report) {
      if (report.users > opts.maxEvaluationUsers) {
        throw new AggregatorError(
          'evaluation_users_too_large',
          `the report claims ${report.users} users; this aggregator takes at most ${opts.maxEvaluationUsers} per report (--max-evaluation-users): send one report per evaluated shopper`,
        )
      }
      if (report.modelVersion > model.version) {
        throw new AggregatorError(
          'unknown_model_version',
          `model version ${report.modelVersion} has not been published; the current one is ${model.version}: evaluate the model from /v1/model`,
        )
      }
      if (report.modelVersion < model.version - EVALUATION_WINDOW) {
        throw new AggregatorError(
          'evaluation_too_old',
          `model version ${report.modelVersion} is no longer evaluated (the current one is ${model.version}, reports are taken for the last ${EVALUATION_WINDOW + 1}); fetch /v1/model and evaluate that`,
        )
      }
      if (report.round < report.modelVersion || report.round > round.round) {
        throw new AggregatorError(
          'bad_evaluation_round',
          `round ${report.round} cannot have evaluated model version ${report.modelVersion} (version v is published when round v opens; the current round is ${round.round})`,
        )
      }
      store.checkPresent()
      const clientHash = hashClientId(salt, report.clientId)
      const prior = store.findEvaluation(report.idempotencyKey)
      if (prior) {
        if (prior.clientHash !== clientHash)
          throw new AggregatorError(
            'idempotency_conflict',
            'this idempotency key was used before by another report; use a fresh random key per report',
          )
        return { accepted: true, modelVersion: prior.modelVersion, duplicate: true }
      }
      // Anyone can post a report; only a client that trained with the others may say how good the model is.
      if (!tookPart(clientHash, report.modelVersion)) {
        throw new AggregatorError(
          'not_a_participant',
          `this client has no accepted update in round ${report.modelVersion - 1} or ${report.modelVersion} (the rounds that published and trained on model version ${report.modelVersion}): only clients that took part may report; send the client id of your accepted upload, after its ack`,
        )
      }
      if (store.hasClientEvaluated(report.modelVersion, clientHash)) {
        throw new AggregatorError(
          'already_evaluated',
          `this client has already reported on model version ${report.modelVersion}: one report per client and version (a retry must reuse its idempotency key)`,
        )
      }
      store.insertEvaluation({ ...report, clientHash, receivedAt: iso(opts.now()) })
      logModel('evaluation report for model version %d: %d users', report.modelVersion, report.users)
      return { accepted: true, modelVersion: report.modelVersion, duplicate: false }
    },

    settings() {
      return {
        minClients: opts.minClients,
        roundDeadlineSeconds: opts.roundDeadlineSeconds,
        ...clientSettings(),
        maxUpdateNorm: Number.isFinite(opts.maxUpdateNorm) ? opts.maxUpdateNorm : null,
        maxRowNorm: Number.isFinite(opts.maxRowNorm) ? opts.maxRowNorm : null,
        normPolicy: opts.normPolicy,
        dpNoiseMultiplier: opts.dpNoiseMultiplier,
        dpClipNorm: opts.dpClipNorm,
        dpDelta: opts.dpDelta,
        dpPopulation: opts.dpPopulation,
      }
    },

    updateSettings(patch) {
      const { maxUpdateNorm, maxRowNorm, ...rest } = patch
      const dpBefore = opts.dpNoiseMultiplier !== null
      const dpAfter = patch.dpNoiseMultiplier === undefined ? dpBefore : patch.dpNoiseMultiplier !== null
      const conflict = dpAfter ? dpConflict(opts) : null
      if (conflict) throw new AggregatorError('bad_settings', conflict)
      Object.assign(opts, rest)
      if (maxUpdateNorm !== undefined) opts.maxUpdateNorm = maxUpdateNorm ?? Number.POSITIVE_INFINITY
      if (maxRowNorm !== undefined) opts.maxRowNorm = maxRowNorm ?? Number.POSITIVE_INFINITY
      // Updates trained under the old negatives per positive may still arrive in this round.
      negativesCeiling = Math.max(negativesCeiling, opts.negativesPerPositive)
      logRound('settings changed by the operator: %o', patch)
      // The open round closes under the settings in force at its close: its accepted updates are counted
      // again with the new S, σ and denominator (the quorum), so the accountant's (q, σ) is what was run.
      const dpChanged = ['dpNoiseMultiplier', 'dpClipNorm', 'dpPopulation'].some((k) => k in patch)
      if (dpChanged || (dpBefore && 'minClients' in patch)) rebuildAccumulator()
      if ('dpDelta' in patch) recomputePrivacy()
      if ('roundDeadlineSeconds' in patch) {
        // The open round too: its deadline becomes its opening plus the new length (now at the earliest), so
        // an operator who shortens the rounds need not wait out the old length once more.
        const deadline = iso(Math.max(opts.now(), Date.parse(round.openedAt) + deadlineMs()))
        store.setDeadline(round.round, deadline)
        round = { ...round, deadline }
        arm()
      }
      // A lowered quorum that is met closes the round now — through the retrying path: the settings are
      // changed either way, and a close that fails (disk full) must be tried again, not wait for the deadline.
      closeOnQuorum()
      return aggregator.settings()
    },

    recordRejection(code) {
      pendingRejections.set(code, (pendingRejections.get(code) ?? 0) + 1)
      if (!rejectionTimer && !closed) {
        rejectionTimer = setTimeout(flushRejections, REJECTION_FLUSH_MS)
        rejectionTimer.unref()
      }
    },

    resetRound(expectedRound) {
      if (expectedRound !== undefined && expectedRound < round.round) {
        throw new AggregatorError(
          'round_closed',
          `round ${expectedRound} has already closed (the open round is ${round.round}): nothing was reset; its updates are in model version ${expectedRound + 1}`,
        )
      }
      if (expectedRound !== undefined && expectedRound > round.round) {
        throw new AggregatorError(
          'future_round',
          `round ${expectedRound} has not opened (the open round is ${round.round}): nothing was reset`,
        )
      }
      // Updates waiting for their group commit were accepted before the reset: they are written (and their
      // clients acknowledged) first, so the reset discards them with the rest and a retry hears round_reset.
      commitQueue()
      const now = opts.now()
      const reopen = { at: iso(now), deadline: iso(now + deadlineMs()) }
      // Durable first: if the transaction fails, the round, its updates and the accumulator stay as they were.
      const discarded = store.transaction(() => store.resetRound(round.round, reopen))
      // A cohort running in this round would bring its masked inputs back with its sum: it goes too.
      secagg?.abortCohort('the operator reset the round')
      round = {
        ...round,
        openedAt: reopen.at,
        deadline: reopen.deadline,
        resets: round.resets + 1,
        discarded: round.discarded + discarded,
      }
      accumulator?.reset()
      logRound(
        'round %d reset by the operator: %d accepted updates discarded (reset %d of this round); reopened on model version %d, deadline %s',
        round.round,
        discarded,
        round.resets,
        model.version,
        round.deadline,
      )
      arm()
      return {
        round: round.round,
        modelVersion: model.version,
        discarded,
        resets: round.resets,
        deadline: round.deadline,
      }
    },

    queueCatalogue(itemIds) {
      const added = store.queueItems(itemIds, iso(opts.now()))
      const pending = store.pendingItems().length
      logModel('catalogue: %d ids offered, %d queued, %d pending', itemIds.length, added, pending)
      // With no items nobody can be training, so no in-flight update can be invalidated: publish now.
      if (model.itemIds.length === 0 && pending > 0) {
        closeRound('deadline')
        return { added, pending: 0 }
      }
      return { added, pending }
    },

    checkDeadline() {
      if (closed) return
      const now = opts.now()
      if (now < Date.parse(round.deadline)) {
        arm()
        return
      }
      if (participants() > 0 || store.pendingItems().length > 0) {
        closeRound('deadline')
        return
      }
      const deadline = iso(now + deadlineMs())
      store.setDeadline(round.round, deadline)
      round = { ...round, deadline }
      logRound('round %d reached its deadline with no update; new deadline %s', round.round, deadline)
      arm()
    },

    close() {
      if (closed) return
      commitQueue()
      closed = true
      if (timer) clearTimeout(timer)
      if (closeRetry) clearTimeout(closeRetry)
      flushRejections()
      secagg?.close()
      store.close()
    },
  }

  /**
   * Group commit: the updates accepted during one turn of the event loop are written in one transaction
   * (one fsync) at the next `setImmediate`, then counted, then acknowledged. While one batch is being
   * written the next one gathers, so the rate is not bounded by the disk's sync latency.
   */
  interface Queued {
    record: UpdateRecord
    update: ModelUpdate
    ack: UpdateAck
    tag: string
    settle: { resolve: (ack: UpdateAck) => void; reject: (err: unknown) => void }
    done: Promise<UpdateAck>
  }
  let queue: Queued[] = []
  const queuedByKey = new Map<string, Queued>()
  const queuedClients = new Set<string>()
  let flushScheduled = false

  const enqueue = (bytes: Uint8Array, update: ModelUpdate): Promise<UpdateAck> => {
    // Before anything else: an ack for an update written into a deleted store would be a lie.
    store.checkPresent()
    const clientHash = hashClientId(salt, update.clientId)
    const tag = logTag(clientHash)
    const prior = store.findUpdate(update.idempotencyKey)
    const queued = queuedByKey.get(update.idempotencyKey)
    const discarded = prior || queued ? undefined : store.findDiscarded(update.idempotencyKey)
    const priorHash = prior?.clientHash ?? queued?.record.clientHash ?? discarded?.clientHash
    if (priorHash !== undefined) {
      if (priorHash !== clientHash) {
        throw new AggregatorError(
          'idempotency_conflict',
          'this idempotency key was used before by another client; use a fresh random key per update',
        )
      }
      if (discarded) {
        // Not a duplicate ack (it no longer counts) and not a fresh acceptance (an automatic retry would
        // bring back exactly what the operator threw out): the client decides to contribute anew.
        logUpdate('client %s: retry of an update discarded by a reset of round %d', tag, discarded.round)
        throw new AggregatorError(
          'round_reset',
          `this update was discarded: the operator reset round ${discarded.round} after accepting it, so it no longer counts; fetch /v1/round and /v1/model, train again and send a new update under a new idempotency key`,
        )
      }
      logUpdate('client %s: retry of an accepted update, answering its ack', tag)
      if (prior) return Promise.resolve({ ...parseUpdateAck(JSON.parse(prior.ack)), duplicate: true })
      return queued!.done.then((ack) => ({ ...ack, duplicate: true }))
    }
    if (!accumulator) throw new AggregatorError('empty_catalogue', 'the model has no items yet')
    check(update, clientHash)
    if (queuedClients.has(clientHash)) {
      throw new AggregatorError(
        'already_submitted',
        `this client already has an accepted update in round ${round.round}; wait for the next round`,
      )
    }
    let bounded = applyNormBound(update, {
      maxNorm: opts.maxUpdateNorm,
      policy: opts.normPolicy,
      maxRowNorm: opts.maxRowNorm,
    })
    if (opts.dpNoiseMultiplier !== null) {
      // Defence in depth: honest clients clipped to S already; a client that did not is clipped here, and
      // what is stored (and replayed after a crash) is the clipped update.
      if (normOfUpdate(bounded.update) > opts.dpClipNorm * DP_CLIP_SLACK)
        bounded = applyNormBound(bounded.update, { maxNorm: opts.dpClipNorm, policy: 'clip' })
    }
    if (bounded.clipped) logUpdate('client %s: update norm clipped to %d', tag, bounded.norm)
    const ack: UpdateAck = {
      accepted: true,
      round: round.round,
      modelVersion: model.version,
      idempotencyKey: update.idempotencyKey,
      duplicate: false,
      participants: accumulator.participants + queue.length + 1,
    }
    let settle!: Queued['settle']
    const done = new Promise<UpdateAck>((resolve, reject) => {
      settle = { resolve, reject }
    })
    const entry: Queued = {
      record: {
        idempotencyKey: update.idempotencyKey,
        clientHash,
        round: round.round,
        sampleCount: update.sampleCount,
        // What is counted is what is stored, so a replay after a crash counts the same (clipped) update.
        payload: bounded.clipped ? encodeUpdate(bounded.update) : bytes,
        ack: JSON.stringify(ack),
        receivedAt: iso(opts.now()),
        norm: bounded.norm,
        clipped: bounded.clipped,
      },
      update: bounded.update,
      ack,
      tag,
      settle,
      done,
    }
    queue.push(entry)
    queuedByKey.set(update.idempotencyKey, entry)
    queuedClients.add(clientHash)
    if (!flushScheduled) {
      flushScheduled = true
      setImmediate(flush)
    }
    return done
  }

  /** Writes the queued updates in one transaction, counts them, acknowledges them. Synchronous. */
  const commitQueue = (): void => {
    if (queue.length === 0) return
    const batch = queue
    queue = []
    queuedByKey.clear()
    queuedClients.clear()
    try {
      // Durable first, counted second: a crash in between is healed by the replay at start.
      store.transaction(() => {
        for (const q of batch) store.insertUpdate(q.record)
      })
    } catch (err) {
      logError('updates_write_failed', err, { round: round.round, updates: batch.length })
      for (const q of batch) q.settle.reject(err)
      return
    }
    for (const q of batch) {
      try {
        accumulator!.add(q.update)
      } catch (err) {
        // checkUpdateFits passed, so this is not expected; never keep an update that was not counted.
        store.deleteUpdate(q.record.idempotencyKey)
        q.settle.reject(err)
        continue
      }
      logUpdate(
        'client %s: update accepted for round %d (%d samples, %d/%d participants)',
        q.tag,
        q.record.round,
        q.record.sampleCount,
        q.ack.participants,
        opts.minClients,
      )
      q.settle.resolve(q.ack)
    }
  }

  const flush = (): void => {
    flushScheduled = false
    if (closed) return
    commitQueue()
    closeOnQuorum()
  }

  /**
   * Closes the round if its quorum is met. A close that fails (disk full, I/O error…) is tried again every
   * CLOSE_RETRY_MS until it succeeds: the updates are durable and counted, so they stay acknowledged, but the
   * update that met the quorum may well be the round's last one, and waiting for "the next update" would
   * mean waiting for the deadline.
   */
  let closeRetry: NodeJS.Timeout | undefined
  const closeOnQuorum = (): void => {
    if (closeRetry) clearTimeout(closeRetry)
    closeRetry = undefined
    if (closed || !accumulator || accumulator.participants < opts.minClients) return
    try {
      closeRound('quorum')
    } catch (err) {
      logError('round_close_failed', err, {
        round: round.round,
        closedBy: 'quorum',
        retryInMs: CLOSE_RETRY_MS,
      })
      closeRetry = setTimeout(closeOnQuorum, CLOSE_RETRY_MS)
      // The HTTP server keeps the process alive; the retry alone must not.
      closeRetry.unref()
    }
  }

  const rejectionCounts = (): Record<string, number> => {
    const counts = store.rejections()
    for (const [code, n] of pendingRejections) counts[code] = (counts[code] ?? 0) + n
    return counts
  }

  const check = (update: ModelUpdate, clientHash: string): void => {
    if (opts.secureAggregation)
      throw new SecAggRefusal(
        'secure_aggregation_required',
        'rounds of this aggregator are secure-aggregated: a plain update would show the server your delta; join a cohort (POST /v1/secagg/join, see config.secureAggregation of /v1/round)',
      )
    if (update.round < round.round) {
      throw new AggregatorError(
        'round_closed',
        `round ${update.round} is closed; the current round is ${round.round}: fetch /v1/round and /v1/model, retrain, and send a new update`,
      )
    }
    if (update.round > round.round) {
      throw new AggregatorError(
        'future_round',
        `round ${update.round} has not opened; the current round is ${round.round}: fetch /v1/round and train for that round`,
      )
    }
    if (update.modelVersion !== model.version) {
      throw new AggregatorError(
        'stale_model',
        `the update is relative to model version ${update.modelVersion}; the current one is ${model.version}: fetch /v1/round and /v1/model, retrain, and send a new update`,
      )
    }
    checkUpdateFits(update, { numItems: model.itemIds.length, dim: model.dim })
    const rows = Math.max(0, ...update.tensors.map((t) => t.rowIds.length))
    if (rows === 0) {
      // It would count towards the quorum and dilute the honest updates (Σ n_k grows) while teaching nothing.
      throw new AggregatorError(
        'empty_update',
        'the update carries no row of any tensor: there is nothing to count; send an update only after training on at least one item',
      )
    }
    // n_k is the number of (positive, negative) pairs trained on; every pair's positive is a row the update
    // carries and each positive has at most `negativesPerPositive` negatives, so an honest n_k is at most
    // that many per row. A larger claim is a client buying weight it did not train for.
    const justified = negativesCeiling * rows
    if (update.sampleCount > justified) {
      throw new AggregatorError(
        'sample_count_too_large',
        `sample count ${update.sampleCount} is more than the ${rows} rows of the update can come from (at most ${negativesCeiling} pairs per row, config.negativesPerPositive of /v1/round: ${justified}); send the number of pairs trained on`,
      )
    }
    if (update.sampleCount > opts.maxSampleCount) {
      throw new AggregatorError(
        'sample_count_too_large',
        `sample count ${update.sampleCount} exceeds the maximum of ${opts.maxSampleCount} (config.maxSampleCount of /v1/round); send at most that`,
      )
    }
    if (store.hasClientSubmitted(round.round, clientHash)) {
      throw new AggregatorError(
        'already_submitted',
        `this client already has an accepted update in round ${round.round}; wait for the next round`,
      )
    }
  }

  logRound(
    'round %d open (model version %d, %d items, dim %d), deadline %s, %d/%d participants',
    round.round,
    model.version,
    model.itemIds.length,
    model.dim,
    round.deadline,
    participants(),
    opts.minClients,
  )
  // A lowered --min-clients may already be met by the replayed updates.
  if (accumulator && accumulator.participants >= opts.minClients) closeRound('quorum')
  arm()
  if (opts.secureAggregation) {
    secagg = createSecAggCoordinator({
      store,
      salt,
      config: opts.secureAggregation,
      now: opts.now,
      timers: opts.deadlineTimer,
      current: () => ({
        round: round.round,
        modelVersion: model.version,
        numItems: model.itemIds.length,
        dim: model.dim,
      }),
      complete(sum, count, write) {
        if (!accumulator) throw new AggregatorError('empty_catalogue', 'the model has no items yet')
        const decoded = decodeSecAggSum(sum, { numItems: model.itemIds.length, dim: model.dim })
        accumulator.addSum({
          participants: count,
          samples: decoded.weight,
          tensors: decoded.tensors.map(({ name, weighted }) => ({
            name,
            weighted,
            rowWeights: decoded.rowWeights,
          })),
        })
        try {
          closeRound('quorum', write)
        } catch (err) {
          // The sum is not counted unless the round closed with it; the cohort stays unmasking and retries.
          accumulator.reset()
          throw err
        }
      },
    })
  }
  return aggregator
}

/**
 * Why DP-FedAvg cannot run with these settings, or null: checked at start and on every settings change.
 * 'touched' divides each row by a data-dependent count, which DP cannot bound; secure-aggregated rounds hand
 * the server a sum weighted by n_k that it can neither clip nor reweight, so the clip norm would not be its
 * sensitivity.
 */
function dpConflict(opts: Pick<ResolvedOptions, 'rowNormalization' | 'secureAggregation'>): string | null {
  if (opts.rowNormalization !== 'all')
    return "DP-FedAvg (--dp-noise-multiplier) needs --row-normalization all: 'touched' divides each row by a data-dependent count, which DP cannot bound"
  if (opts.secureAggregation)
    return 'DP-FedAvg (--dp-noise-multiplier) and secure aggregation cannot be combined yet: the secure sum is weighted by sample counts, so its sensitivity is not the clip norm'
  return null
}

function initialise(store: AggregatorStore, opts: ResolvedOptions, now: string): void {
  const seed = opts.seed ?? randomInt(2 ** 31)
  const dim = opts.dim ?? DEFAULT_DIM
  const itemIds = [...new Set(opts.catalogue ?? [])]
  const weights =
    itemIds.length > 0
      ? initSharedWeights(itemIds.length, dim, createRng(seed))
      : { itemEmbedding: new Float32Array(0), itemBias: new Float32Array(0) }
  store.initialise({
    meta: {
      created_at: now,
      dim: String(dim),
      seed: String(seed),
      client_salt: newClientSalt(),
      server_optimizer: opts.serverOptimizer,
    },
    model: {
      version: 0,
      round: 0,
      dim,
      itemIds,
      itemEmbedding: weights.itemEmbedding,
      itemBias: weights.itemBias,
      createdAt: now,
    },
    round: openRecord(0, 0, Date.parse(now), Math.round(opts.roundDeadlineSeconds * 1000)),
  })
  logModel(
    'fresh store %s: model version 0 with %d items, dim %d, seed %d',
    store.path,
    itemIds.length,
    dim,
    seed,
  )
}

function loadModel(store: AggregatorStore): StoredModel {
  try {
    return store.loadModel()
  } catch (err) {
    throw new StartupError(`store ${store.path}: the model cannot be read (${(err as Error).message})`, {
      cause: err,
    })
  }
}

function newAccumulator(model: StoredModel, opts: ResolvedOptions): Accumulator | undefined {
  const rows = model.itemIds.length
  // The accumulator needs at least one row; with an empty catalogue there is nothing to train.
  if (rows === 0) return undefined
  return createAccumulator({
    tensors: [
      { name: ITEM_EMBEDDING, rows, cols: model.dim },
      { name: ITEM_BIAS, rows, cols: 1 },
    ],
    rowNormalization: opts.rowNormalization,
    // DP-FedAvg: the fixed denominator is the quorum, the expected number of updates per round.
    ...(opts.dpNoiseMultiplier === null
      ? {}
      : {
          dp: {
            clipNorm: opts.dpClipNorm,
            noiseMultiplier: opts.dpNoiseMultiplier,
            denominator: opts.minClients,
          },
        }),
  })
}

function openRecord(round: number, modelVersion: number, nowMs: number, deadlineMs: number): RoundRecord {
  return {
    round,
    modelVersion,
    openedAt: new Date(nowMs).toISOString(),
    deadline: new Date(nowMs + deadlineMs).toISOString(),
    closedAt: null,
    closedBy: null,
    participants: null,
    samples: null,
    updateNorm: null,
    clientNormMean: null,
    clientNormMax: null,
    clipped: null,
    resets: 0,
    discarded: 0,
  }
}

function toSummary(r: RoundRecord): RoundSummary {
  return {
    round: r.round,
    // The version this round trained on; it published modelVersion + 1.
    modelVersion: r.modelVersion,
    participants: r.participants ?? 0,
    samples: r.samples ?? 0,
    openedAt: r.openedAt,
    closedAt: r.closedAt ?? '',
    closedBy: r.closedBy ?? 'deadline',
    updateNorm: r.updateNorm ?? 0,
    clientUpdateNorm: { mean: r.clientNormMean ?? 0, max: r.clientNormMax ?? 0 },
    clipped: r.clipped ?? 0,
    resets: r.resets,
    discarded: r.discarded,
  }
}

function toEvaluationSummary(e: {
  modelVersion: number
  users: number
  hits10: number
  ndcg10: number
}): EvaluationSummary {
  const mean = (sum: number): number => (e.users > 0 ? Math.min(1, sum / e.users) : 0)
  return { modelVersion: e.modelVersion, users: e.users, hr10: mean(e.hits10), ndcg10: mean(e.ndcg10) }
}

function copyState(state: OptimizerState): OptimizerState {
  const out: OptimizerState = new Map()
  for (const [name, { m, v }] of state) {
    const entry: { m?: Float32Array; v?: Float32Array } = {}
    if (m) entry.m = m.slice()
    if (v) entry.v = v.slice()
    out.set(name, entry)
  }
  return out
}

/** Grows every moment by the rows of new items: m = 0, v = τ² as the optimizer starts them. */
function extendState(state: OptimizerState, dim: number, newRows: number): OptimizerState {
  const out: OptimizerState = new Map()
  for (const [name, { m, v }] of state) {
    const extra = newRows * (name === ITEM_EMBEDDING ? dim : 1)
    const entry: { m?: Float32Array; v?: Float32Array } = {}
    if (m) entry.m = concat(m, new Float32Array(extra))
    if (v) entry.v = concat(v, new Float32Array(extra).fill(SERVER_TAU * SERVER_TAU))
    out.set(name, entry)
  }
  return out
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** A 32-bit seed for the rows added at `version`, derived from the store's seed. */
function mix(seed: number, version: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(version, 0xc2b2ae35)) >>> 0
}
