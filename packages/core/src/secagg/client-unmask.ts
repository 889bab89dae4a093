// Unmasking, the client's round 3: the b shares of the survivors and the s shares of the dropped.
import { toBase64Url } from './bytes.ts'
import { type ClientState, checkSession } from './client-state.ts'
import { SecAggError } from './errors.ts'
import type { ShareOf, UnmaskRequest, UnmaskResponse } from './messages.ts'

/**
 * Answers the unmask request; refuses (`both_shares_requested`) to ever reveal both kinds of share for one
 * client, also across repeated requests.
 */
export async function unmask(state: ClientState, request: UnmaskRequest): Promise<UnmaskResponse> {
  const { sessionId, id, received, revealedSeedOf, revealedKeyOf } = state
  // Callable again (a restarted server may ask twice); the revealed sets keep the answers consistent.
  if (state.next !== 'unmask')
    throw new SecAggError('bad_phase', `unmask called while the client expects ${state.next}`)
  checkSession(state, request, 'the unmask request')
  const survivors = Array.isArray(request.survivors) ? request.survivors : []
  const dropped = Array.isArray(request.dropped) ? request.dropped : []
  const survivorSet = new Set(survivors)
  const droppedSet = new Set(dropped)
  if (survivorSet.size !== survivors.length || droppedSet.size !== dropped.length) {
    throw new SecAggError('bad_message', 'the unmask request repeats a client id')
  }
  for (const u of survivors) {
    if (droppedSet.has(u)) {
      throw new SecAggError(
        'both_shares_requested',
        `client ${u} is listed as survivor and as dropped: revealing both shares would unmask it`,
      )
    }
  }
  // Across requests too: once b_u went out, s_u never may, and the other way round.
  for (const u of survivors) {
    if (revealedKeyOf.has(u)) {
      throw new SecAggError(
        'both_shares_requested',
        `the s-key share of ${u} was already revealed; refusing its seed share`,
      )
    }
  }
  for (const u of dropped) {
    if (revealedSeedOf.has(u)) {
      throw new SecAggError(
        'both_shares_requested',
        `the seed share of ${u} was already revealed; refusing its s-key share`,
      )
    }
  }
  if (
    survivorSet.size + droppedSet.size !== received.size ||
    ![...received.keys()].every((u) => survivorSet.has(u) || droppedSet.has(u))
  ) {
    throw new SecAggError(
      'bad_message',
      `survivors and dropped must together be exactly the ${received.size} clients that shared keys with this one`,
    )
  }
  if (!survivorSet.has(id))
    throw new SecAggError('bad_message', `this client (${id}) is not listed as a survivor`)
  if (survivors.length < state.roster!.threshold) {
    throw new SecAggError(
      'too_few_survivors',
      `${survivors.length} survivors is below the threshold ${state.roster!.threshold}`,
    )
  }
  const selfMaskShares: ShareOf[] = survivors.map((u) => ({
    of: u,
    share: toBase64Url(received.get(u)!.seed),
  }))
  const keyShares: ShareOf[] = dropped.map((u) => ({ of: u, share: toBase64Url(received.get(u)!.key) }))
  for (const u of survivors) revealedSeedOf.add(u)
  for (const u of dropped) revealedKeyOf.add(u)
  return { type: 'unmask-response', sessionId, id, selfMaskShares, keyShares }
}
