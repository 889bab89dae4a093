// MaskedInputCollection, the client's round 2: decrypts its inbox and masks its vector twice.
import { fromBase64Url } from './bytes.ts'
import {
  addInto,
  CIPHERTEXT_BYTES,
  type ClientState,
  checkSession,
  type ReceivedShares,
  step,
} from './client-state.ts'
import { agree, deriveKey, IV_BYTES, maskStream, open } from './crypto.ts'
import { SecAggError } from './errors.ts'
import { pairMaskInfo, selfMaskInfo, shareAssociatedData, shareKeyInfo } from './labels.ts'
import type { MaskedInputMessage, ShareInbox } from './messages.ts'
import { SHARE_BYTES } from './shamir.ts'

/** Decrypts the inbox and returns y_u = x_u + PRG(b_u) + Σ±PRG(s_uv) mod 2^32. */
export async function maskInput(
  state: ClientState,
  inbox: ShareInbox,
  vector: Uint32Array,
): Promise<MaskedInputMessage> {
  const { sessionId, id, vectorLength, cKeys, sKeys, seed } = state
  if (state.next !== 'mask')
    throw new SecAggError('bad_phase', `maskInput called while the client expects ${state.next}`)
  checkSession(state, inbox, 'the share inbox')
  if (inbox.to !== id) throw new SecAggError('bad_message', `the inbox is for ${inbox.to}, not ${id}`)
  if (!(vector instanceof Uint32Array) || vector.length !== vectorLength) {
    throw new SecAggError(
      'vector_length',
      `the vector must be a Uint32Array of ${vectorLength}, got ${vector?.length ?? typeof vector}`,
    )
  }
  const threshold = state.roster!.threshold
  const entries = Array.isArray(inbox.shares) ? inbox.shares : []
  if (entries.length + 1 < threshold) {
    throw new SecAggError(
      'too_few_survivors',
      `only ${entries.length + 1} clients shared their keys, the threshold is ${threshold}`,
    )
  }
  const opened = new Map<number, ReceivedShares>()
  for (const entry of entries) {
    const from = entry.from
    const cPublic = state.cPublicOf.get(from)
    if (cPublic === undefined || opened.has(from)) {
      throw new SecAggError(
        'unknown_client',
        `the inbox has shares from ${from}, not a roster member or repeated`,
      )
    }
    const iv = fromBase64Url(entry.iv, IV_BYTES, `iv from ${from}`)
    const ciphertext = fromBase64Url(entry.ciphertext, CIPHERTEXT_BYTES, `ciphertext from ${from}`)
    const key = await deriveKey(
      await agree(cKeys.privateKey, cPublic),
      shareKeyInfo(sessionId, from, id),
      'AES-GCM',
    )
    const plain = await open(
      key,
      iv,
      ciphertext,
      shareAssociatedData(sessionId, from, id),
      `share from ${from}`,
    )
    const view = new DataView(plain.buffer)
    if (view.getUint16(0) !== from || view.getUint16(2) !== id) {
      throw new SecAggError('decrypt_failed', `the share from ${from} names other ids inside`)
    }
    opened.set(from, { seed: plain.slice(4, 4 + SHARE_BYTES), key: plain.slice(4 + SHARE_BYTES) })
  }
  step(state, 'mask', 'unmask')
  for (const [from, shares] of opened) state.received.set(from, shares)
  state.received.set(id, state.ownShares!)

  // y = x + PRG(b_u) + Σ_{v>u} PRG(s_uv) − Σ_{v<u} PRG(s_uv); Uint32Array stores wrap mod 2^32.
  const masked = Uint32Array.from(vector)
  addInto(
    masked,
    await maskStream(await deriveKey(seed, selfMaskInfo(sessionId), 'AES-CTR'), vectorLength),
    1,
  )
  for (const v of opened.keys()) {
    const secret = await agree(sKeys.privateKey, state.sPublicOf.get(v)!)
    const stream = await maskStream(
      await deriveKey(secret, pairMaskInfo(sessionId, id, v), 'AES-CTR'),
      vectorLength,
    )
    addInto(masked, stream, v > id ? 1 : -1)
  }
  return { type: 'masked-input', sessionId, id, masked }
}
