/**
 * The aggregation endpoint's domain: the public interface and the wiring of its parts, which share one
 * explicit state (state.ts) and each do one job (start-up, submissions, closing, timers, privacy…).
 * @module
 */
import type {
  EvaluationReport,
  ModelUpdate,
  PublicStatus,
  RoundInfo,
  Status,
  UpdateAck,
} from '@fedrec/protocol'
import { decodeUpdate } from '@fedrec/protocol'
import createDebug from 'debug'
import { type CatalogueEntry, splitCatalogue } from '../catalogue.ts'
import { StartupError } from '../errors.ts'
import type { SecAggCoordinator } from '../secagg/coordinator.ts'
import type { AggregatorStore } from '../store/index.ts'
import { isPostgresLocation, openStoreAt } from '../store/open.ts'
import { type CloseWrite, closeRound } from './close-round.ts'
import { evaluate } from './evaluations.ts'
import { ignoredFeatureChanges } from './model-features.ts'
import { createModelView } from './model-view.ts'
import { type AggregatorOptions, type ResolvedOptions, resolveOptions } from './options.ts'
import { createPrivacyLedger } from './privacy-ledger.ts'
import { createRejectionCounter } from './rejections.ts'
import { refreshState } from './replica-sync.ts'
import { resetRound } from './reset.ts'
import { startSecureAggregation } from './secure-rounds.ts'
import type { RoundSettings } from './settings.ts'
import { currentSettings, updateSettings } from './settings-change.ts'
import { loadState } from './startup.ts'
import { type ClosedBy, iso, participants, roundTally } from './state.ts'
import { publicQuorum, publicStatus, roundInfo, type StatusSources, status } from './status.ts'
import { createSubmissions } from './submissions.ts'
import { createRoundTimers } from './timers.ts'

export { AggregatorError, type AggregatorErrorCode } from './errors.ts'
export { EVALUATION_WINDOW } from './evaluations.ts'
export { applyNormBound, type NormBound, type NormPolicy, updateNorm } from './norm-bound.ts'
export { type AggregatorOptions, DEFAULTS } from './options.ts'
export { parseSettingsPatch, type RoundSettings } from './settings.ts'

const logRound = createDebug('fedrec:aggregator:round')
const logModel = createDebug('fedrec:aggregator:model')

/** Ids `CatalogueAnswer.featuresIgnored` lists at most (its count has them all). */
export const FEATURES_IGNORED_SHOWN = 20

/**
 * What `POST /v1/catalogue` answers.
 * @example { added: 2, pending: 5, featuresIgnored: { count: 1, itemIds: ['sku-7'] } }
 */
export interface CatalogueAnswer {
  /** Ids new to the catalogue, queued now. */
  added: number
  /** Ids waiting to join the model when the round closes (0 when they joined at once: an empty model). */
  pending: number
  /**
   * Items already in the catalogue (the model or the queue) offered with other features than they have:
   * an item keeps the features it joined with, so these changed nothing. Absent when there are none.
   */
  featuresIgnored?: { count: number; itemIds: string[] }
}

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
  /** Where the store is, as messages may show it (a PostgreSQL URL without its password). */
  readonly storePath: string
  /** Secure aggregation's cohorts (`--secure-aggregation`); undefined when rounds take plain updates. */
  readonly secagg: SecAggCoordinator | undefined
  /**
   * Catches up with the store before a read (`roundInfo`, `model`, `status`): on a store replicas share,
   * another one may have closed or reset the round; a no-op on SQLite.
   */
  sync(): Promise<void>
  /** `GET /v1/round` (after `sync()`). */
  roundInfo(): RoundInfo
  /** The current model, encoded once per version. */
  model(): { version: number; bytes: Uint8Array }
  /**
   * `GET /v1/model?since=`: a model patch (MODEL_PATCH_MEDIA_TYPE) from version `since` (≤ the current one)
   * to the current model, or undefined when the change log does not reach back to `since` or the whole
   * model is smaller — then the whole model is the answer.
   */
  modelPatch(since: number): Promise<{ version: number; bytes: Uint8Array } | undefined>
  /**
   * Accepts one encoded update: stores it durably, then counts it, then closes the round on quorum; the
   * promise resolves once it is durable (updates arriving together share one transaction).
   * `decoded` is `decodeUpdate(bytes)` when the caller already has it.
   * @throws ProtocolError (malformed or misshaped update), AggregatorError (refused by the round logic)
   */
  submit(bytes: Uint8Array, decoded?: ModelUpdate): Promise<UpdateAck>
  /** `GET /v1/status` with the operator token: everything, the open round's live figures included. */
  status(): Promise<Status>
  /**
   * `GET /v1/status` without a token: no figure of a round before it has closed with at least the quorum
   * (`--min-clients`; `--secagg-min-cohort` when rounds are secure-aggregated), and the evaluations of model
   * versions that no longer take reports only, so that polling it tells nothing about one client.
   */
  publicStatus(): Promise<PublicStatus>
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
  evaluate(report: EvaluationReport): Promise<{ accepted: true; modelVersion: number; duplicate: boolean }>
  /** Counts a refused update under its error code (written to the store within a second). */
  recordRejection(code: string): void
  /** The settings an operator may change at run time. */
  settings(): RoundSettings
  /**
   * Changes settings until the next start. Client settings show in the next `roundInfo()`; a new deadline
   * length applies to the open round too (its opening plus the new length, now at the earliest); a lowered quorum that is already met closes the round now (a close
   * that fails is tried again every second, as on quorum).
   */
  updateSettings(patch: Partial<RoundSettings>): Promise<RoundSettings>
  /**
   * The operator's reset (`POST /v1/round/reset`): discards the open round's accepted updates and its
   * accumulator in one transaction and reopens the same round on the same model version with a fresh
   * deadline. A retry of a discarded update's key then gets `round_reset`; its client may send a new update.
   * With `expectedRound`, resets only if that round is still the open one (otherwise `round_closed` or
   * `future_round`, nothing discarded): a reset aimed at a poisoned round must not hit the next one.
   */
  resetRound(expectedRound?: number): Promise<RoundReset>
  /**
   * Queues items (ids, or ids with feature strings) for the catalogue; they join the model when the current
   * round closes.
   */
  queueCatalogue(entries: readonly CatalogueEntry[]): Promise<CatalogueAnswer>
  /** Closes (or extends) the round if its deadline has passed. The deadline timer calls it. */
  checkDeadline(): Promise<void>
  /** Writes what is queued, stops the timers and closes the store (after the state change under way). */
  close(): Promise<void>
}

/**
 * Opens the store (creating a fresh model if the file does not exist), replays the open round's stored
 * updates so every acknowledged update is counted exactly once, and arms the deadline timer.
 * @throws StartupError when the store is not a fedrec store, is corrupt, or contradicts the options
 * @example
 * const aggregator = await createAggregator({ store: '.fedrec/aggregator.sqlite', catalogue, minClients: 3 })
 * const info = aggregator.roundInfo()
 */
export async function createAggregator(options: AggregatorOptions): Promise<Aggregator> {
  const opts = resolveOptions(options)
  if (opts.secureAggregation && isPostgresLocation(opts.store))
    throw new StartupError(
      '--secure-aggregation runs on a SQLite store only: its cohorts are a state machine kept in one process (phase timers, the members of a phase in memory), which replicas sharing a PostgreSQL store would each run apart',
    )
  const store = await openStoreAt(opts.store, { create: opts.createStore })
  try {
    return await start(store, opts)
  } catch (err) {
    await store.close()
    throw err
  }
}

/**
 * Wires the parts around one state; every cross-call between them is bound here, and every state change
 * runs in a section of the state's lock (`s.serial`). Nothing else runs until `start` returns.
 */
async function start(store: AggregatorStore, opts: ResolvedOptions): Promise<Aggregator> {
  const s = await loadState(store, opts)
  const ledger = await createPrivacyLedger(store, opts)
  const rejections = createRejectionCounter(s)
  const view = createModelView(s)
  // Replicas: catch up with the store (in a section of the lock); the ledger follows closes made elsewhere.
  const refresh = async (): Promise<void> => {
    if (await refreshState(s)) await ledger.recompute()
  }
  const sync = (): Promise<void> => (s.store.shared ? s.serial('sync', refresh) : Promise.resolve())
  const close = (closedBy: ClosedBy, write?: CloseWrite): Promise<void> =>
    closeRound(s, { commitQueue: submissions.commitQueue, arm: timers.arm, ledger, refresh }, closedBy, write)
  const timers = createRoundTimers(s, close, refresh)
  const submissions = createSubmissions(s, timers.closeOnQuorum, refresh)
  const { commitQueue } = submissions
  const { arm, closeOnQuorum } = timers
  const sources: StatusSources = { ledger, rejections, modelBytes: () => view.model().bytes.byteLength }

  const aggregator: Aggregator = {
    storeCreated: store.isNew,
    storePath: store.path,
    get secagg() {
      return s.secagg
    },
    sync,
    roundInfo: () => roundInfo(s),
    model: view.model,
    modelPatch: view.modelPatch,
    submit(bytes, decoded) {
      try {
        return submissions.submit(bytes, decoded ?? decodeUpdate(bytes))
      } catch (err) {
        return Promise.reject(err)
      }
    },
    status: async () => {
      await sync()
      return status(s, sources)
    },
    publicQuorum: () => publicQuorum(s),
    publicStatus: async () => {
      await sync()
      return publicStatus(s, sources)
    },
    evaluate: (report) =>
      s.serial('evaluation report', async () => {
        await refresh()
        return evaluate(s, report)
      }),
    settings: () => currentSettings(opts),
    updateSettings: (patch) =>
      s.serial('settings change', async () => {
        await refresh()
        return updateSettings(s, { ledger, commitQueue, arm, closeOnQuorum }, patch)
      }),
    recordRejection: rejections.record,
    resetRound: (expectedRound) =>
      s.serial('round reset', async () => {
        await refresh()
        return resetRound(s, { commitQueue, arm }, expectedRound)
      }),

    queueCatalogue: (entries) =>
      s.serial('catalogue queue', async () => {
        await refresh()
        const { itemIds, features } = splitCatalogue(entries)
        const queuedStrings = await store.pendingFeatures()
        const queued = new Map((await store.pendingItems()).map((id) => [id, queuedStrings.get(id) ?? []]))
        const ignored = ignoredFeatureChanges(s.model, queued, features)
        const added = await store.queueItems(itemIds, iso(opts.now()), features)
        const pending = (await store.pendingItems()).length
        logModel('catalogue: %d ids offered, %d queued, %d pending', itemIds.length, added, pending)
        if (ignored.length > 0)
          logModel(
            'catalogue: new features of %d items already in the catalogue ignored: %s',
            ignored.length,
            ignored.slice(0, FEATURES_IGNORED_SHOWN).join(', '),
          )
        const report = {
          added,
          ...(ignored.length > 0 && {
            featuresIgnored: { count: ignored.length, itemIds: ignored.slice(0, FEATURES_IGNORED_SHOWN) },
          }),
        }
        // With no items nobody can be training, so no in-flight update can be invalidated: publish now.
        if (s.model.itemIds.length === 0 && pending > 0) {
          await close('deadline')
          return { ...report, pending: 0 }
        }
        return { ...report, pending }
      }),

    checkDeadline: timers.checkDeadline,

    close: () =>
      s.serial('close', async () => {
        if (s.closed) return
        await commitQueue()
        s.closed = true
        timers.stop()
        await rejections.flush()
        s.secagg?.close()
        await store.close()
      }),
  }

  logRound(
    'round %d open (model version %d, %d items, dim %d), deadline %s, %d/%d participants',
    s.round.round,
    s.model.version,
    s.model.itemIds.length,
    s.model.dim,
    s.round.deadline,
    participants(s),
    opts.minClients,
  )
  // A lowered --min-clients may already be met by the replayed updates.
  if (s.accumulator && (await roundTally(s)).participants >= opts.minClients) await close('quorum')
  arm()
  if (opts.secureAggregation) s.secagg = await startSecureAggregation(s, opts.secureAggregation, close)
  return aggregator
}
