// The three messages a member posts after joining: ShareKeys, MaskedInputCollection and Unmasking. Each is
// durable before it is acknowledged; the same post again is a duplicate, a different one `already_sent`.
import { decodeMaskedInput, type SecAggAck, type SecAggShares, type SecAggUnmask } from '@fedrec/protocol'
import { advance } from './advance.ts'
import { followRound } from './cohort-lifecycle.ts'
import { commit } from './commit.ts'
import { type CoordinatorState, vectorLength } from './coordinator-state.ts'
import { SecAggRefusal } from './errors.ts'
import { finish } from './finish.ts'
import { ack, member, repeated, running } from './member-checks.ts'

/** ShareKeys: the member's encrypted shares for every other member of the roster. */
export async function shares(
  s: CoordinatorState,
  number: number,
  token: string | undefined,
  body: SecAggShares,
): Promise<SecAggAck> {
  await followRound(s)
  const { c, m } = await member(s, number, token)
  const json = JSON.stringify(body)
  const repeat = await repeatedJson(s, c, m, 'shares', json, 'other shares')
  if (repeat) return repeat
  running(s, c, 'share', 'shares')
  await commit(
    s,
    () => s.server.addShareKeys({ ...body, type: 'share-keys', sessionId: c.sessionId, id: m.id }),
    (db) => db.insertMessage(c.cohort, m.id, 'shares', json),
  )
  const answer = ack(s, c, false)
  await advance(s, false)
  return answer
}

/** MaskedInputCollection: the member's masked vector (binary body). */
export async function masked(
  s: CoordinatorState,
  number: number,
  token: string | undefined,
  bytes: Uint8Array,
): Promise<SecAggAck> {
  await followRound(s)
  const { c, m } = await member(s, number, token)
  const repeat = repeated(s, c, m, {
    before: m.uploaded,
    same: m.masked !== null && Buffer.from(m.masked).equals(Buffer.from(bytes)),
    other: 'a masked input',
  })
  if (repeat) return repeat
  running(s, c, 'mask', 'masked inputs')
  let vector: Uint32Array
  try {
    vector = decodeMaskedInput(bytes, vectorLength(s.host))
  } catch (err) {
    throw new SecAggRefusal('bad_secagg_message', (err as Error).message, { cause: err })
  }
  await commit(
    s,
    () => s.server.addMaskedInput({ type: 'masked-input', sessionId: c.sessionId, id: m.id, masked: vector }),
    (db) => db.setMasked(c.cohort, m.id, bytes),
  )
  const answer = ack(s, c, false)
  await advance(s, false)
  return answer
}

/** Unmasking; once t members answered, the sum is reconstructed and the round closed. */
export async function unmask(
  s: CoordinatorState,
  number: number,
  token: string | undefined,
  body: SecAggUnmask,
): Promise<SecAggAck> {
  await followRound(s)
  const { c, m } = await member(s, number, token)
  const json = JSON.stringify(body)
  const repeat = await repeatedJson(s, c, m, 'unmask', json, 'other unmask shares')
  if (repeat) return repeat
  running(s, c, 'unmask', 'unmask shares')
  if (s.finishing)
    throw new SecAggRefusal('wrong_phase', `cohort ${c.cohort} has the shares it needs and is unmasking`)
  await commit(
    s,
    () => s.server.addUnmaskResponse({ ...body, type: 'unmask-response', sessionId: c.sessionId, id: m.id }),
    (db) => db.insertMessage(c.cohort, m.id, 'unmask', json),
  )
  const answer = ack(s, c, false)
  // The reconstruction runs on its own and takes the lock for its close: the caller waits for it outside
  // this section (the coordinator's unmask), so that the ack follows the close.
  if (s.server.canFinish) void finish(s)
  return answer
}

/** `repeated` for a message the store keeps as JSON under `kind`. */
async function repeatedJson(
  s: CoordinatorState,
  c: Parameters<typeof repeated>[1],
  m: Parameters<typeof repeated>[2],
  kind: 'shares' | 'unmask',
  json: string,
  other: string,
): Promise<SecAggAck | undefined> {
  const prior = await s.db.message(c.cohort, m.id, kind)
  return repeated(s, c, m, { before: prior !== undefined, same: prior === json, other })
}
