/** Where the widget's list comes from: the recommender, its popular list without a tfjs backend, the page's own fallback, or the list saved by the last page view. */
import { isFedrecError } from '../errors.ts'
import type { LeaveOut } from '../events.ts'
import { type LastList, readLastList } from '../last-list.ts'
import type { Recommender } from '../recommender.ts'
import type { Suggestion, SuggestionSet } from '../suggest.ts'
import type { WidgetMode } from './attributes.ts'
import { degradedPopular } from './fallback.ts'
import type { Warn } from './types.ts'

/** The saved list of the for-you mode (see last-list.ts). */
export const LAST_LIST_KEY = 'for-you'

/** What one load asks for, read from the attributes when it starts. */
export interface SuggestionsRequest {
  recommender: () => Promise<Recommender>
  mode: WidgetMode
  k: number
  exclude: string[]
  leaveOut: LeaveOut
  itemId: string | undefined
  /** Needed for the page's own fallback; null means there is none. */
  endpoint: string | null
  dbName: string
  /** The shop's name in a model several shops share: the fallback shows this shop's items only. */
  shop?: string
  warn: Warn
}

/**
 * The list to show and whether it is degraded (popular items only, because the recommender could not rank
 * personally). Never rejects: with no model reachable at all, the set is `{ kind: 'none' }`.
 */
export async function loadSuggestions(request: SuggestionsRequest): Promise<{
  set: SuggestionSet
  degraded: boolean
}> {
  const { k, exclude, itemId, warn } = request
  try {
    const rec = await request.recommender()
    try {
      const set = await rec.suggest({
        mode: request.mode,
        k,
        exclude,
        leaveOut: request.leaveOut,
        ...(itemId ? { itemId } : {}),
      })
      return { set, degraded: false }
    } catch (err) {
      // Personal scoring needs a tfjs backend; popularity does not, so ask the worker for that first.
      if (!isFedrecError(err) || err.code !== 'no_backend') throw err
      warn('backend', 'no tfjs backend works here; showing popular items', err)
      return { set: await rec.suggest({ mode: 'popular', k, exclude }), degraded: true }
    }
  } catch (err) {
    warn(
      isFedrecError(err) ? err.code : 'start',
      'recommendations run in degraded mode (popular items only)',
      err,
    )
    try {
      if (!request.endpoint) throw err
      return {
        set: await degradedPopular(request.endpoint, request.dbName, k, new Set(exclude), request.shop),
        degraded: true,
      }
    } catch (fallbackErr) {
      warn('fallback', 'no model is reachable for popular items either', fallbackErr)
      return { set: { kind: 'none', modelVersion: -1, items: [] }, degraded: true }
    }
  }
}

/**
 * The personal list the last page view saved, without excluded items and cut to `k`; null when there is
 * none (or no IndexedDB here: then the fresh load decides what to show).
 */
export async function savedSuggestions(
  dbName: string,
  k: number,
  exclude: readonly string[],
): Promise<Suggestion[] | null> {
  let last: LastList | null
  try {
    last = await readLastList(dbName, LAST_LIST_KEY)
  } catch {
    return null
  }
  if (!last) return null
  const skip = new Set(exclude)
  return last.items
    .filter((item) => !skip.has(item.itemId))
    .slice(0, k)
    .map((item) => ({ itemId: item.itemId, score: 0, because: item.because }))
}
