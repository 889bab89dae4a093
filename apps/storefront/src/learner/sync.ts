/** Rounds of federated learning: one on request, one in the background when enough events came in. */
import type { SyncReport, TrackEvent } from '@fedrec/browser'
import { emit, type LearnerState, refreshRecommendations, warnOnce } from './state.ts'
import { describeSyncError } from './sync-error.ts'

/** Runs a round now; resolves with the report or rejects with the library's error (kept in the status). */
export async function runSync(state: LearnerState): Promise<SyncReport> {
  const { status } = state
  const r = await state.ready
  state.eventsSinceSync = 0
  state.syncsInFlight++
  status.syncing = true
  emit(state, 'status')
  try {
    const report = await r.sync()
    status.lastReport = report
    status.lastSyncAt = Date.now()
    status.problem = null
    state.warned.delete('sync')
    refreshRecommendations(state)
    return report
  } catch (err) {
    status.problem = describeSyncError(err)
    throw err
  } finally {
    state.syncsInFlight--
    status.syncing = state.syncsInFlight > 0
    emit(state, 'status')
  }
}

/** A background round, unless one is already running, learning is paused or there is no recommender. */
export function requestSync(state: LearnerState): void {
  if (!state.rec || state.status.paused || state.backgroundSync) return
  state.backgroundSync = runSync(state)
    .catch((err: unknown) => warnOnce(state, 'sync', 'background sync failed; will retry later:', err))
    .finally(() => {
      state.backgroundSync = null
      // Events that arrived during the round count towards the next one.
      if (roundDue(state)) requestSync(state)
    })
}

/** Counts a tracked event towards the next round, and starts it when due. */
export function afterTrack(state: LearnerState, event: TrackEvent): void {
  state.eventsSinceSync++
  // A purchase removes the item from the shopper's recommendations at once, without waiting for a round.
  if (event.type === 'purchase') refreshRecommendations(state)
  if (roundDue(state)) requestSync(state)
}

const roundDue = ({ settings, eventsSinceSync }: LearnerState): boolean =>
  settings.syncAfterEvents > 0 && eventsSinceSync >= settings.syncAfterEvents
