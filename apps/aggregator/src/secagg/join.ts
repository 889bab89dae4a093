// AdvertiseKeys: a client joins the forming cohort with its two public keys, a random id and a token.
import type { SecAggJoin, SecAggJoinAck } from '@fedrec/protocol'
import { hashClientId } from '../aggregator/client-hash.ts'
import { advance } from './advance.ts'
import { followRound, setPhase } from './cohort-lifecycle.ts'
import { commit } from './commit.ts'
import { type CoordinatorState, hashToken } from './coordinator-state.ts'
import { SecAggRefusal } from './errors.ts'

/** Joins the forming cohort; durable before it returns. The same join again is a duplicate. */
export async function join(s: CoordinatorState, body: SecAggJoin): Promise<SecAggJoinAck> {
  await followRound(s)
  const { host, db } = s
  const current = host.current()
  if (body.round !== current.round || body.modelVersion !== current.modelVersion)
    throw new SecAggRefusal(
      'stale_round',
      `the open round is ${current.round} on model version ${current.modelVersion}; this join is for round ${body.round}, version ${body.modelVersion}: fetch /v1/round and /v1/model and train again`,
    )
  if (current.numItems === 0)
    throw new SecAggRefusal('stale_round', 'the model has no items yet: there is nothing to train')
  const clientHash = hashClientId(host.salt, body.clientId)
  const tokenHash = hashToken(body.token)
  const target = body.cohort === s.cohort.cohort ? s.cohort : await db.cohort(body.cohort)
  if (!target) throw new SecAggRefusal('unknown_cohort', `there is no cohort ${body.cohort}`)
  const prior = await db.memberByClient(target.cohort, clientHash)
  if (prior) {
    if (
      prior.tokenHash === tokenHash &&
      prior.cPublicKey === body.cPublicKey &&
      prior.sPublicKey === body.sPublicKey
    )
      return { cohort: target.cohort, sessionId: target.sessionId, id: prior.id, duplicate: true }
    throw new SecAggRefusal(
      'already_joined',
      `this client already joined cohort ${target.cohort} with other keys; it takes part with those or waits for the next cohort`,
    )
  }
  const { cohort } = s
  if (target !== cohort || cohort.phase !== 'advertise')
    throw new SecAggRefusal(
      'cohort_not_forming',
      `cohort ${body.cohort} is not taking members (the current cohort is ${cohort.cohort}, phase ${cohort.phase}); poll GET /v1/secagg and join the next forming one`,
    )
  const members = await db.members(cohort.cohort)
  if (members.some((m) => m.tokenHash === tokenHash))
    throw new SecAggRefusal('already_joined', 'this token is taken in this cohort: use a fresh random token')
  if (members.some((m) => m.id === body.id))
    throw new SecAggRefusal(
      'id_taken',
      `id ${body.id} is taken in cohort ${cohort.cohort}: draw another and join again`,
    )
  const { id } = body
  await commit(
    s,
    () =>
      s.server.addAdvertisement({
        type: 'advertise-keys',
        sessionId: cohort.sessionId,
        id,
        cPublicKey: body.cPublicKey,
        sPublicKey: body.sPublicKey,
      }),
    (tx) =>
      tx.insertMember({
        cohort: cohort.cohort,
        id,
        clientHash,
        tokenHash,
        cPublicKey: body.cPublicKey,
        sPublicKey: body.sPublicKey,
      }),
  )
  const answer = { cohort: cohort.cohort, sessionId: cohort.sessionId, id, duplicate: false }
  // The advertise phase's clock starts with its first member: a cohort waits for company that long.
  if (members.length === 0) await setPhase(s, 'advertise')
  await advance(s, false)
  return answer
}
