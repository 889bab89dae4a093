// Rebuilding a cohort's in-memory protocol state from the store: at start-up, and after a failed write
// left the memory ahead of the disk.
import { decodeMaskedInput, parseSecAggShares, parseSecAggUnmask, type SecAggPhase } from '@fedrec/protocol'
import { abort, announce, arm, insertCohort, log, openCohort } from './cohort-lifecycle.ts'
import {
  type CoordinatorState,
  createState,
  ended,
  newServer,
  type SecAggHost,
  vectorLength,
} from './coordinator-state.ts'
import { finish } from './finish.ts'
import type { CohortRecord, SecAggStore } from './store.ts'

const ORDER: readonly SecAggPhase[] = ['advertise', 'share', 'mask', 'unmask', 'done', 'aborted']

/**
 * Rebuilds the protocol state of the stored cohort by replaying its messages in the order their phases
 * closed. Every close is a function of the messages before it, so the replay ends where the cohort was.
 */
export async function replay(s: CoordinatorState, c: CohortRecord): Promise<void> {
  const { host, db } = s
  const server = newServer(host, c)
  s.cohort = c
  s.server = server
  s.roster = undefined
  s.unmaskRequest = undefined
  const members = await db.members(c.cohort)
  const at = (phase: SecAggPhase): boolean => ORDER.indexOf(c.phase) >= ORDER.indexOf(phase)
  for (const m of members)
    server.addAdvertisement({
      type: 'advertise-keys',
      sessionId: c.sessionId,
      id: m.id,
      cPublicKey: m.cPublicKey,
      sPublicKey: m.sPublicKey,
    })
  if (!at('share')) return
  s.roster = server.closeAdvertise()
  for (const { id, body } of await db.messages(c.cohort, 'shares'))
    server.addShareKeys({
      ...parseSecAggShares(JSON.parse(body)),
      type: 'share-keys',
      sessionId: c.sessionId,
      id,
    })
  if (!at('mask')) return
  server.closeShare()
  for (const m of members) {
    if (!m.masked) continue
    const masked = decodeMaskedInput(m.masked, vectorLength(host))
    server.addMaskedInput({ type: 'masked-input', sessionId: c.sessionId, id: m.id, masked })
  }
  if (!at('unmask')) return
  s.unmaskRequest = server.closeMask()
  for (const { id, body } of await db.messages(c.cohort, 'unmask'))
    server.addUnmaskResponse({
      ...parseSecAggUnmask(JSON.parse(body)),
      type: 'unmask-response',
      sessionId: c.sessionId,
      id,
    })
}

/** After a failed write: the store still holds the state before it; rebuild the cohort from there. */
export async function replayFromStore(s: CoordinatorState): Promise<void> {
  await replay(s, (await s.db.cohort(s.cohort.cohort)) ?? s.cohort)
}

/**
 * Start-up: resumes the stored cohort of the open round where it was (and finishes it if it can), aborts a
 * stored cohort of a closed round, or opens the first cohort.
 */
export async function resume(
  host: SecAggHost,
  db: SecAggStore,
  onDeadline: () => Promise<void>,
): Promise<CoordinatorState> {
  const stored = await db.latestCohort()
  const cohort = stored ?? (await insertCohort(host, db))
  const s = createState(host, db, cohort, onDeadline)
  if (!stored) announce(s)
  else if (!ended(stored) && stored.round === host.current().round) {
    await replay(s, stored)
    log('cohort %d (%s) resumed in phase %s', stored.cohort, stored.sessionId, stored.phase)
    arm(s)
    if (s.cohort.phase === 'unmask' && s.server.canFinish) void finish(s)
  } else if (!ended(stored)) await abort(s, `round ${stored.round} closed without this cohort`)
  else await openCohort(s)
  return s
}
