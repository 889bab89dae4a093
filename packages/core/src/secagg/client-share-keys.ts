// ShareKeys, the client's round 1: checks the roster and Shamir-shares b_u and s_u among its members.
import { concatBytes, fromBase64Url, toBase64Url, utf8 } from './bytes.ts'
import { type ClientState, checkSession, step } from './client-state.ts'
import {
  agree,
  deriveKey,
  exportPrivateScalar,
  IV_BYTES,
  importPublicKey,
  PUBLIC_KEY_BYTES,
  randomBytes,
  seal,
  sha256,
} from './crypto.ts'
import { SecAggError } from './errors.ts'
import { seedCommitmentLabel, shareAssociatedData, shareKeyInfo } from './labels.ts'
import type { SecAggRoster, ShareKeysMessage } from './messages.ts'
import { checkCohort, isClientId } from './params.ts'
import type { CryptoKey } from './platform.ts'
import { splitSecret } from './shamir.ts'

/** Checks the roster (size, threshold, own keys) and encrypts one share pair for every other member. */
export async function shareKeys(state: ClientState, r: SecAggRoster): Promise<ShareKeysMessage> {
  const { sessionId, id, minClients, cKeys, sKeys, cPublic, sPublic, seed } = state
  if (state.next !== 'share')
    throw new SecAggError('bad_phase', `shareKeys called while the client expects ${state.next}`)
  checkSession(state, r, 'the roster')
  const clients = Array.isArray(r.clients) ? r.clients : []
  checkCohort(clients.length, r.threshold, minClients)
  const ids = new Set<number>()
  let self = false
  const cKeysOf = new Map<number, CryptoKey>()
  const sKeysOf = new Map<number, CryptoKey>()
  for (const entry of clients) {
    if (!isClientId(entry.id) || ids.has(entry.id)) {
      throw new SecAggError('bad_message', `the roster has a bad or repeated client id ${entry.id}`)
    }
    ids.add(entry.id)
    const c = fromBase64Url(entry.cPublicKey, PUBLIC_KEY_BYTES, `roster c key of ${entry.id}`)
    const s = fromBase64Url(entry.sPublicKey, PUBLIC_KEY_BYTES, `roster s key of ${entry.id}`)
    if (entry.id === id) {
      if (toBase64Url(c) !== toBase64Url(cPublic) || toBase64Url(s) !== toBase64Url(sPublic)) {
        throw new SecAggError('bad_message', `the roster lists other keys for this client (${id})`)
      }
      self = true
      continue
    }
    cKeysOf.set(entry.id, await importPublicKey(c, `roster c key of ${entry.id}`))
    sKeysOf.set(entry.id, await importPublicKey(s, `roster s key of ${entry.id}`))
  }
  if (!self) throw new SecAggError('unknown_client', `the roster does not list this client (${id})`)
  step(state, 'share', 'mask')
  state.roster = r
  state.sPublicOf = sKeysOf
  state.cPublicOf = cKeysOf

  // One Shamir share per roster member, in roster order; this client keeps its own.
  const n = clients.length
  const seedShares = await splitSecret(seed, n, r.threshold)
  const keyShares = await splitSecret(await exportPrivateScalar(sKeys.privateKey), n, r.threshold)
  const shares: ShareKeysMessage['shares'] = []
  for (let i = 0; i < n; i++) {
    const to = clients[i]!.id
    if (to === id) {
      state.ownShares = { seed: seedShares[i]!, key: keyShares[i]! }
      continue
    }
    const key = await deriveKey(
      await agree(cKeys.privateKey, state.cPublicOf.get(to)!),
      shareKeyInfo(sessionId, id, to),
      'AES-GCM',
    )
    const iv = randomBytes(IV_BYTES)
    const plaintext = concatBytes(u16(id), u16(to), seedShares[i]!, keyShares[i]!)
    const ciphertext = await seal(key, iv, plaintext, shareAssociatedData(sessionId, id, to))
    shares.push({ to, iv: toBase64Url(iv), ciphertext: toBase64Url(ciphertext) })
  }
  const commitment = await sha256(concatBytes(utf8(seedCommitmentLabel(sessionId, id)), seed))
  return { type: 'share-keys', sessionId, id, seedCommitment: toBase64Url(commitment), shares }
}

function u16(n: number): Uint8Array {
  const out = new Uint8Array(2)
  new DataView(out.buffer).setUint16(0, n)
  return out
}
