/**
 * The worker side of the library: a thin facade over its parts — the backend guard, the model cache, the
 * profile, the sync round with its two upload strategies, and scoring.
 * @module
 */
import type { BackendName, EventWeights } from '@fedrec/core/client'
import { createProtocolClient, type Fetch, type RetryPolicy, type RoundConfig } from '@fedrec/protocol'
import type * as tfjs from '@tensorflow/tfjs-core'
import createDebug from 'debug'
import { clearAll, type FedrecDatabase, openFedrecDB } from '../db.ts'
import { FedrecError, fromClientError } from '../errors.ts'
import type { LeaveOut } from '../events.ts'
import type { CheckedRerankOptions } from '../recommender-input.ts'
import type { RerankResult } from '../rerank.ts'
import type { SuggestionSet, SuggestRequest } from '../suggest.ts'
import { type BackendGuard, createBackendGuard } from './backend-guard.ts'
import { createModelCache, type ModelCache } from './model-cache.ts'
import { createProfileStore } from './profile.ts'
import { rerank } from './rerank.ts'
import { type Recommendation, recommend, type ScoringParts, suggest } from './scoring.ts'
import { createPlainUpload } from './sync/plain-upload.ts'
import type { SyncReport } from './sync/report.ts'
import { runSync, type SyncParts } from './sync/round.ts'
import { createSecureUpload } from './sync/secure-upload.ts'

export type { Recommendation } from './scoring.ts'
export type { SyncPhases, SyncReport } from './sync/report.ts'

const netLog = createDebug('fedrec:browser:net')

/** What a test may put in place of the platform's (not part of `EngineOptions`, which cross postMessage). */
export interface EnginePlatform {
  /** The `fetch` the protocol client uses (default the platform's). */
  fetch?: Fetch
}

export interface EngineOptions {
  endpoint: string
  dbName: string
  backends: BackendName[]
  eventWeights?: EventWeights
  retry?: RetryPolicy
  /** The shop's namespace in a model several shops share (see `RecommenderOptions.shop`). */
  shop?: string
}

/**
 * The worker side of the library: owns tfjs, the cached model, training and scoring. The page talks to it
 * only through comlink. Exported (rather than hidden in worker.ts) so it can be tested in a real browser.
 */
export class Engine {
  private inFlight: Promise<SyncReport> | null = null
  private readonly guard: BackendGuard
  private readonly models: ModelCache
  private readonly syncParts: SyncParts
  private readonly scoring: ScoringParts

  private constructor(
    tf: typeof tfjs,
    private readonly db: FedrecDatabase,
    private readonly options: EngineOptions,
    platform: EnginePlatform,
  ) {
    const client = createProtocolClient({
      baseUrl: options.endpoint,
      ...(platform.fetch ? { fetch: platform.fetch } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
      onRetry: (attempt, url, delay) => netLog('retry %d of %s in %d ms', attempt, url, delay),
    })
    let lastConfig: RoundConfig | null = null
    const guard = createBackendGuard(tf, [...options.backends])
    const models = createModelCache(db, client, () => guard.dropScorer(), options.shop)
    const profile = createProfileStore(db)
    const { eventWeights } = options
    this.guard = guard
    this.models = models
    this.syncParts = {
      db,
      client,
      models,
      guard,
      profile,
      training: { tf, guard, eventWeights },
      plain: createPlainUpload(client, profile),
      secure: createSecureUpload(client, profile),
      onConfig: (seen) => {
        lastConfig = seen
      },
    }
    this.scoring = { db, models, guard, profile, lastConfig: () => lastConfig, eventWeights }
  }

  static async create(
    tf: typeof tfjs,
    options: EngineOptions,
    platform: EnginePlatform = {},
  ): Promise<Engine> {
    let db: FedrecDatabase
    try {
      db = await openFedrecDB(options.dbName)
    } catch (cause) {
      throw new FedrecError('storage', `cannot open IndexedDB "${options.dbName}": ${String(cause)}`, {
        cause,
      })
    }
    return new Engine(tf, db, options, platform)
  }

  /**
   * The backend in use, choosing one on first call: the configured order, first that works. Concurrent first
   * calls (the widget's suggestion and a sync, say) share one choice.
   */
  ensureBackend(): Promise<BackendName> {
    return this.guard.ensure()
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
    const run = () => runSync(this.syncParts).catch(rethrowAsFedrecError)
    const locks = globalThis.navigator?.locks
    if (!locks) return run()
    return await locks.request(`fedrec:sync:${this.options.dbName}`, run)
  }

  /** The k best items for this shopper (see `recommend` in ./scoring.ts). */
  recommend(k: number, leaveOut: LeaveOut = 'carted'): Promise<Recommendation[]> {
    return recommend(this.scoring, k, leaveOut).catch(rethrowAsFedrecError)
  }

  /** Recommendations with their kind and a reason per item (see `suggest` in ./scoring.ts). */
  suggest(request: SuggestRequest): Promise<SuggestionSet> {
    return suggest(this.scoring, request).catch(rethrowAsFedrecError)
  }

  /** The shop's list in this shopper's order, from the model on this device only (see ./rerank.ts). */
  rerank(itemIds: readonly string[], options: CheckedRerankOptions): Promise<RerankResult> {
    return rerank(this.scoring, itemIds, options).catch(rethrowAsFedrecError)
  }

  /** Erases every local trace and forgets the in-memory copies too. */
  async forget(): Promise<void> {
    await this.inFlight?.catch(() => undefined)
    this.models.forget()
    await clearAll(this.db)
  }

  dispose(): void {
    this.guard.dropScorer()
    this.db.close()
  }
}

/** The protocol client's errors leave the engine as the library's own (same code, same message). */
function rethrowAsFedrecError(err: unknown): never {
  throw fromClientError(err)
}
