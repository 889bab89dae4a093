/** The pause switch, remembered in the page's storage (the library remembers its own copy in IndexedDB). */
import { emit, type LearnerState } from './state.ts'

const PAUSED_KEY = 'bramble:learning-paused'

/** Whether the shopper paused learning on an earlier visit; false when storage is missing or blocked. */
export function readPaused(storage: Storage | null): boolean {
  try {
    return storage?.getItem(PAUSED_KEY) === '1'
  } catch {
    return false
  }
}

/** Sets the switch in the status and the page's storage (not in the library: callers do that). */
export function applyPaused(state: LearnerState, paused: boolean): void {
  state.status.paused = paused
  try {
    if (paused) state.storage?.setItem(PAUSED_KEY, '1')
    else state.storage?.removeItem(PAUSED_KEY)
  } catch {
    // Storage blocked: the library's own switch (IndexedDB) still holds it.
  }
  emit(state, 'status')
}
