// The server's round 1 (ShareKeys): collects each member's encrypted shares for the others, fixes U2 and
// hands each member of U2 the shares addressed to it.
import { fromBase64Url } from './bytes.ts'
import { CIPHERTEXT_BYTES } from './client-state.ts'
import { IV_BYTES } from './crypto.ts'
import { SecAggError } from './errors.ts'
import type { ShareInbox, ShareKeysMessage } from './messages.ts'
import { checkHeader, expectPhase, type ServerContext, threshold } from './server-context.ts'

/** Adds one member's seed commitment and its shares, exactly one for each other member of the roster. */
export function addShareKeys(ctx: ServerContext, message: ShareKeysMessage): void {
  const { s, adverts, shareKeys } = ctx
  expectPhase(ctx, 'share', 'share-keys')
  const id = checkHeader(ctx, message, 'share-keys')
  if (!adverts.has(id)) throw new SecAggError('unknown_client', `client ${id} is not in the roster`)
  if (shareKeys.has(id)) throw new SecAggError('duplicate_message', `client ${id} already sent its shares`)
  fromBase64Url(message.seedCommitment, 32, `seed commitment of ${id}`)
  const shares = Array.isArray(message.shares) ? message.shares : []
  const seen = new Set<number>()
  for (const share of shares) {
    if (!adverts.has(share.to) || share.to === id || seen.has(share.to)) {
      throw new SecAggError(
        'unknown_client',
        `client ${id} sent a share for ${share.to}: unknown, itself or repeated`,
      )
    }
    seen.add(share.to)
    fromBase64Url(share.iv, IV_BYTES, `iv ${id}→${share.to}`)
    fromBase64Url(share.ciphertext, CIPHERTEXT_BYTES, `ciphertext ${id}→${share.to}`)
  }
  if (seen.size !== adverts.size - 1) {
    throw new SecAggError(
      'bad_message',
      `client ${id} must send a share to each of the ${adverts.size - 1} other clients, sent ${seen.size}`,
    )
  }
  const copy: ShareKeysMessage = {
    type: 'share-keys',
    sessionId: s.options.sessionId,
    id,
    seedCommitment: message.seedCommitment,
    shares: shares.map(({ to, iv, ciphertext }) => ({ to, iv, ciphertext })),
  }
  shareKeys.set(id, copy)
  s.shareKeys.push(copy)
}

/** Closes round 1: U2 = the senders, sorted; refuses fewer than t. */
export function closeShare(ctx: ServerContext): readonly number[] {
  const { s, shareKeys } = ctx
  expectPhase(ctx, 'share', 'closing share-keys')
  if (shareKeys.size < threshold(ctx)) {
    throw new SecAggError(
      'too_few_survivors',
      `${shareKeys.size} clients shared their keys, the threshold is ${threshold(ctx)}`,
    )
  }
  s.shared = [...shareKeys.keys()].sort((a, b) => a - b)
  s.phase = 'mask'
  return [...s.shared]
}

/** The shares the other members of U2 encrypted for `to`. */
export function inbox(ctx: ServerContext, to: number): ShareInbox {
  const { s, shareKeys } = ctx
  if (s.shared === null)
    throw new SecAggError('bad_phase', `no inbox before share-keys is closed (phase ${s.phase})`)
  if (!s.shared.includes(to)) throw new SecAggError('unknown_client', `client ${to} did not share its keys`)
  const shares: ShareInbox['shares'] = []
  for (const from of s.shared) {
    if (from === to) continue
    const entry = shareKeys.get(from)!.shares.find((x) => x.to === to)!
    shares.push({ from, iv: entry.iv, ciphertext: entry.ciphertext })
  }
  return { type: 'share-inbox', sessionId: s.options.sessionId, to, shares }
}
