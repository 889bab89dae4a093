import {
  createRecommender,
  type FedrecErrorCode,
  isFedrecError,
  type Recommendation,
  type Recommender,
  type StoredEvent,
  type SyncReport,
  type TrackEvent,
} from '@fedrec/browser'
import type { StorefrontSettings } from './settings.ts'

/** What the status line and the "Your data" page show. */
export interface LearnerStatus {
  phase: 'starting' | 'ready' | 'unavailable'
  /** The shopper turned learning off: nothing is recorded and nothing is synced. */
  paused: boolean
  syncing: boolean
  lastReport: SyncReport | null
  lastSyncAt: number | null
  /** Why learning is not happening, one short sentence for the status line; null when all is well. */
  problem: string | null
}

/** `status`: the status line should be redrawn; `recommendations`: the model or the history changed. */
export type LearnerChange = 'status' | 'recommendations'

/**
 * The shop's side of @fedrec/browser: one recommender, background sync on a cadence, and a status the page
 * can show. Nothing here blocks the page: tracking is fire-and-forget, syncs run in the library's worker,
 * and every failure becomes a status line and a console.warn, never an uncaught rejection.
 */
export interface Learner {
  /** The aggregator's base URL (the widget's degraded mode reads popular items from it directly). */
  readonly endpoint: string
  /** Resolves once the recommender exists; rejects (handled) if this browser cannot run it. */
  readonly ready: Promise<void>
  /**
   * The recommender as a customer's code would use it, routed through this learner so that the page keeps
   * up: `track()` counts towards the background sync, and every `sync()` redraws recommendations.
   */
  readonly recommender: Recommender
  status(): LearnerStatus
  /** Records an event in the background (skipped while paused or unavailable). */
  track(event: TrackEvent): void
  /** Top-k recommendations; [] before the first model, while unavailable, or on error (warned). */
  recommend(k: number): Promise<Recommendation[]>
  history(): Promise<StoredEvent[]>
  /** Runs a round now; resolves with the report or rejects with the library's error. */
  syncNow(): Promise<SyncReport>
  setPaused(paused: boolean): void
  forget(): Promise<void>
  /** Calls `listener` on every change until `signal` aborts. */
  subscribe(listener: (change: LearnerChange) => void, signal?: AbortSignal): void
}

export interface LearnerOptions {
  /** Where the pause switch is remembered (localStorage in the page). */
  storage?: Storage | null
  /** Stand-in for createRecommender (tests). */
  create?: typeof createRecommender
}

const PAUSED_KEY = 'bramble:learning-paused'

/**
 * Creates the learner and starts its recommender at once.
 * @example const learner = createLearner({ endpoint, syncEverySeconds: 60, syncAfterEvents: 5 })
 */
export function createLearner(
  settings: StorefrontSettings,
  { storage = null, create = createRecommender }: LearnerOptions = {},
): Learner {
  const listeners = new Set<(change: LearnerChange) => void>()
  const status: LearnerStatus = {
    phase: 'starting',
    paused: readPaused(storage),
    syncing: false,
    lastReport: null,
    lastSyncAt: null,
    problem: null,
  }
  let rec: Recommender | null = null
  let eventsSinceSync = 0
  let syncsInFlight = 0
  let backgroundSync: Promise<unknown> | null = null
  let timer: ReturnType<typeof setInterval> | undefined
  let refreshTimer: ReturnType<typeof setTimeout> | undefined
  const warned = new Set<string>()

  const emit = (change: LearnerChange): void => {
    for (const listener of listeners) listener(change)
  }
  // Several purchases in a row, or a sync right after one, should redraw the rows once, not per event.
  const refreshRecommendations = (): void => {
    clearTimeout(refreshTimer)
    refreshTimer = setTimeout(() => emit('recommendations'), 30)
  }
  const warnOnce = (key: string, message: string, err: unknown): void => {
    if (warned.has(key)) return
    warned.add(key)
    console.warn(`[storefront] ${message}`, err)
  }

  const ready: Promise<Recommender> = create({
    endpoint: settings.endpoint,
    ...(settings.backends ? { backends: settings.backends } : {}),
  }).then(
    (created) => {
      rec = created
      status.phase = 'ready'
      emit('status')
      // The library remembers the pause switch too (its widget's privacy panel can flip it): agree with it.
      created.localData().then(
        (data) => {
          if (status.paused && !data.paused) void created.setPaused(true).catch(() => undefined)
          else if (data.paused && !status.paused) applyPaused(true)
        },
        () => undefined,
      )
      if (settings.syncEverySeconds > 0) timer = setInterval(requestSync, settings.syncEverySeconds * 1000)
      return created
    },
    (err: unknown) => {
      status.phase = 'unavailable'
      status.problem = 'Personal recommendations are unavailable in this browser'
      console.warn('[storefront] could not start the recommender:', err)
      emit('status')
      throw err
    },
  )
  // The rejection is reported above; later awaits still see it, but it is never "unhandled".
  ready.catch(() => undefined)

  async function runSync(): Promise<SyncReport> {
    const r = await ready
    eventsSinceSync = 0
    syncsInFlight++
    status.syncing = true
    emit('status')
    try {
      const report = await r.sync()
      status.lastReport = report
      status.lastSyncAt = Date.now()
      status.problem = null
      warned.delete('sync')
      refreshRecommendations()
      return report
    } catch (err) {
      status.problem = describeSyncError(err)
      throw err
    } finally {
      syncsInFlight--
      status.syncing = syncsInFlight > 0
      emit('status')
    }
  }

  /** A background round, unless one is already running, learning is paused or there is no recommender. */
  function requestSync(): void {
    if (!rec || status.paused || backgroundSync) return
    backgroundSync = runSync()
      .catch((err: unknown) => warnOnce('sync', 'background sync failed; will retry later:', err))
      .finally(() => {
        backgroundSync = null
        // Events that arrived during the round count towards the next one.
        if (settings.syncAfterEvents > 0 && eventsSinceSync >= settings.syncAfterEvents) requestSync()
      })
  }

  function afterTrack(event: TrackEvent): void {
    eventsSinceSync++
    // A purchase removes the item from the shopper's recommendations at once, without waiting for a round.
    if (event.type === 'purchase') refreshRecommendations()
    if (settings.syncAfterEvents > 0 && eventsSinceSync >= settings.syncAfterEvents) requestSync()
  }

  async function forget(): Promise<void> {
    const r = await ready
    await r.forget()
    eventsSinceSync = 0
    status.lastReport = null
    status.lastSyncAt = null
    emit('status')
    refreshRecommendations()
  }

  const recommender: Recommender = {
    async track(event) {
      const r = await ready
      await r.track(event)
      afterTrack(event)
    },
    sync: runSync,
    recommend: async (options) => (await ready).recommend(options),
    suggest: async (request) => (await ready).suggest(request),
    localData: async () => (await ready).localData(),
    async setPaused(paused) {
      await (await ready).setPaused(paused)
      applyPaused(paused)
    },
    history: async () => (await ready).history(),
    forget,
    backend: async () => (await ready).backend(),
    close() {
      clearInterval(timer)
      rec?.close()
      rec = null
      status.phase = 'unavailable'
      status.problem = 'Learning stopped'
      emit('status')
    },
  }

  function applyPaused(paused: boolean): void {
    status.paused = paused
    try {
      if (paused) storage?.setItem(PAUSED_KEY, '1')
      else storage?.removeItem(PAUSED_KEY)
    } catch {
      // Storage blocked: the library's own switch (IndexedDB) still holds it.
    }
    emit('status')
  }

  return {
    endpoint: settings.endpoint,
    ready: ready.then(() => undefined),
    recommender,
    status: () => ({ ...status }),
    track(event) {
      if (status.paused || status.phase === 'unavailable') return
      recommender
        .track(event)
        .catch((err: unknown) => warnOnce(`track:${errorKey(err)}`, 'could not record an event:', err))
    },
    async recommend(k) {
      if (status.phase === 'unavailable') return []
      try {
        return await recommender.recommend({ k })
      } catch (err) {
        warnOnce(`recommend:${errorKey(err)}`, 'recommendations unavailable for now:', err)
        return []
      }
    },
    history: () => (status.phase === 'unavailable' ? Promise.resolve([]) : recommender.history()),
    syncNow: runSync,
    setPaused(paused) {
      applyPaused(paused)
      rec
        ?.setPaused(paused)
        .catch((err: unknown) => warnOnce('pause', 'could not store the pause switch:', err))
    },
    forget,
    subscribe(listener, signal) {
      listeners.add(listener)
      signal?.addEventListener('abort', () => listeners.delete(listener), { once: true })
    },
  }
}

function readPaused(storage: Storage | null): boolean {
  try {
    return storage?.getItem(PAUSED_KEY) === '1'
  } catch {
    return false
  }
}

const errorKey = (err: unknown): string =>
  isFedrecError(err) ? err.code : err instanceof Error ? err.name : 'unknown'

/** The status line for a failed round: short, for shoppers; the details go to console.warn. */
export function describeSyncError(err: unknown): string {
  if (!isFedrecError(err)) return 'Learning paused: sync failed'
  const code: FedrecErrorCode = err.code
  switch (code) {
    case 'network':
      return 'Learning paused: aggregator unreachable'
    case 'rejected':
    case 'already_submitted':
      return 'Learning paused: the aggregator turned this update down'
    case 'no_backend':
      return "Learning paused: this browser can't run the model"
    case 'storage':
      return 'Learning paused: on-device storage is unavailable'
    case 'closed':
      return 'Learning stopped'
    case 'paused':
      return 'Learning paused by you'
    case 'secagg_aborted':
      return 'Learning paused: too few shoppers online to learn privately; trying again later'
    case 'server_error':
      return 'Learning paused: the aggregator is having trouble; trying again later'
    case 'corrupt_model':
      return 'Learning paused: the shared model arrived damaged; trying again later'
    case 'bad_option':
    case 'bad_event':
    case 'internal':
      return 'Learning paused: sync failed'
    default: {
      const unreachable: never = code
      return unreachable
    }
  }
}
