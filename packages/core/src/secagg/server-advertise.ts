// The server's round 0 (AdvertiseKeys): collects each client's two public keys, then fixes the roster and t.
import { SecAggError } from './errors.ts'
import type { AdvertiseKeysMessage, RosterEntry, SecAggRoster } from './messages.ts'
import { checkCohort, defaultThreshold } from './params.ts'
import { platform } from './platform.ts'
import { checkPublicKey } from './server-checks.ts'
import { checkHeader, expectPhase, type ServerContext } from './server-context.ts'

/** Adds one client's advertised keys; refuses repeats, a full cohort and malformed or equal keys. */
export function addAdvertisement(ctx: ServerContext, message: AdvertiseKeysMessage): void {
  const { s, adverts } = ctx
  const { maxClients } = s.options
  expectPhase(ctx, 'advertise', 'advertise-keys')
  const id = checkHeader(ctx, message, 'advertise-keys')
  if (adverts.has(id)) throw new SecAggError('duplicate_message', `client ${id} already advertised keys`)
  if (adverts.size >= maxClients) {
    throw new SecAggError('cohort_too_large', `the cohort is full (${maxClients} clients)`)
  }
  const entry: RosterEntry = {
    id,
    cPublicKey: checkPublicKey(message.cPublicKey, `c key of ${id}`),
    sPublicKey: checkPublicKey(message.sPublicKey, `s key of ${id}`),
  }
  if (entry.cPublicKey === entry.sPublicKey) {
    throw new SecAggError('bad_message', `client ${id} advertised the same key twice`)
  }
  adverts.set(id, entry)
  s.advertisements.push(entry)
}

/** Closes round 0: the roster, sorted by id, with t = max(threshold option, ⌊n/2⌋+1). */
export function closeAdvertise(ctx: ServerContext): SecAggRoster {
  const { s, adverts } = ctx
  const { sessionId, minClients } = s.options
  expectPhase(ctx, 'advertise', 'closing advertise-keys')
  const n = adverts.size
  const t = Math.max(s.options.threshold ?? 0, defaultThreshold(n))
  checkCohort(n, t, minClients)
  s.roster = {
    type: 'roster',
    sessionId,
    threshold: t,
    clients: [...adverts.values()].sort((a, b) => a.id - b.id),
  }
  s.phase = 'share'
  return platform.structuredClone(s.roster)
}
