import { concatBytes, fromBase64Url, toBase64Url, utf8 } from './bytes.ts'
import {
  agree,
  deriveKey,
  exportPrivateScalar,
  exportPublicKey,
  generateKeyPair,
  IV_BYTES,
  importPublicKey,
  maskStream,
  open,
  PUBLIC_KEY_BYTES,
  randomBytes,
  SEED_BYTES,
  seal,
  sha256,
} from './crypto.ts'
import { SecAggError } from './errors.ts'
import {
  pairMaskInfo,
  seedCommitmentLabel,
  selfMaskInfo,
  shareAssociatedData,
  shareKeyInfo,
} from './labels.ts'
import type {
  AdvertiseKeysMessage,
  MaskedInputMessage,
  SecAggRoster,
  ShareInbox,
  ShareKeysMessage,
  ShareOf,
  UnmaskRequest,
  UnmaskResponse,
} from './messages.ts'
import {
  checkCohort,
  checkMinClients,
  checkSessionId,
  checkVectorLength,
  DEFAULT_SECAGG_MIN_CLIENTS,
  isClientId,
} from './params.ts'
import type { CryptoKey } from './platform.ts'
import { SHARE_BYTES, splitSecret } from './shamir.ts'

/**
 * Options of {@link createSecAggClient}.
 * @example const options: SecAggClientOptions = { sessionId: 'r12-9f2c', id: 4, vectorLength: 57189 }
 */
export interface SecAggClientOptions {
  /** Unique per cohort attempt; bound into every key derivation. */
  sessionId: string
  /** This client's id in the cohort (1..65535), assigned by the server. */
  id: number
  /** Length of the u32 vector every member masks (`secAggVectorLength`). */
  vectorLength: number
  /** The smallest cohort this client agrees to join; default {@link DEFAULT_SECAGG_MIN_CLIENTS}. */
  minClients?: number
}

/**
 * One client's side of one secure-aggregation cohort: four steps, each called once and in order. Secrets
 * (private keys, the self-mask seed, the shares received) stay in this object and are never returned.
 * @example
 * const client = await createSecAggClient({ sessionId, id, vectorLength })
 * await post('advertise', await client.advertiseKeys())
 * await post('share', await client.shareKeys(await get('roster')))
 * await post('masked', await client.maskInput(await get('inbox'), vector))
 * await post('unmask', await client.unmask(await get('unmask-request')))
 */
export interface SecAggClient {
  readonly id: number
  readonly sessionId: string
  /** Round 0: the two public keys. */
  advertiseKeys(): Promise<AdvertiseKeysMessage>
  /** Round 1: checks the roster (size, threshold, own keys) and Shamir-shares b_u and s_u among it. */
  shareKeys(roster: SecAggRoster): Promise<ShareKeysMessage>
  /** Round 2: decrypts the inbox and returns y_u = x_u + PRG(b_u) + Σ±PRG(s_uv) mod 2^32. */
  maskInput(inbox: ShareInbox, vector: Uint32Array): Promise<MaskedInputMessage>
  /**
   * Round 3: the b shares of the survivors and the s shares of the dropped. Refuses (`both_shares_requested`)
   * to ever reveal both kinds for one client, also across repeated requests.
   */
  unmask(request: UnmaskRequest): Promise<UnmaskResponse>
}

type Phase = 'advertise' | 'share' | 'mask' | 'unmask'

interface ReceivedShares {
  seed: Uint8Array
  key: Uint8Array
}

/**
 * Creates a client for one cohort with fresh key pairs and a fresh self-mask seed.
 * Throws `SecAggError('bad_parameters')` for a bad session id, client id or vector length.
 * @example const client = await createSecAggClient({ sessionId: 'r3-a1b2', id: 2, vectorLength: 1 + 10 * 34 })
 */
export async function createSecAggClient(options: SecAggClientOptions): Promise<SecAggClient> {
  const { sessionId, id, vectorLength } = options
  const minClients = options.minClients ?? DEFAULT_SECAGG_MIN_CLIENTS
  checkSessionId(sessionId)
  if (!isClientId(id)) throw new SecAggError('bad_parameters', `client id must be 1..65535, got ${id}`)
  checkVectorLength(vectorLength)
  checkMinClients(minClients)

  const cKeys = await generateKeyPair(false)
  // The s key is extractable only so that its scalar can be secret-shared; it never leaves unencrypted.
  const sKeys = await generateKeyPair(true)
  const cPublic = await exportPublicKey(cKeys.publicKey)
  const sPublic = await exportPublicKey(sKeys.publicKey)
  const seed = randomBytes(SEED_BYTES)

  let next: Phase = 'advertise'
  let roster: SecAggRoster | undefined
  let sPublicOf = new Map<number, CryptoKey>()
  let cPublicOf = new Map<number, CryptoKey>()
  let ownShares: ReceivedShares | undefined
  // U2 as this client saw it (the senders of its inbox plus itself), and their shares for it.
  const received = new Map<number, ReceivedShares>()
  const revealedSeedOf = new Set<number>()
  const revealedKeyOf = new Set<number>()

  const step = (expected: Phase, then: Phase): void => {
    if (next !== expected)
      throw new SecAggError('bad_phase', `${expected} called while the client expects ${next}`)
    next = then
  }
  const checkSession = (message: { sessionId: unknown }, what: string): void => {
    if (message.sessionId !== sessionId) {
      throw new SecAggError(
        'bad_message',
        `${what} is for session ${JSON.stringify(message.sessionId)}, this client is in ${sessionId}`,
      )
    }
  }

  const steps: Omit<SecAggClient, 'id' | 'sessionId'> = {
    async advertiseKeys() {
      step('advertise', 'share')
      return {
        type: 'advertise-keys',
        sessionId,
        id,
        cPublicKey: toBase64Url(cPublic),
        sPublicKey: toBase64Url(sPublic),
      }
    },

    async shareKeys(r) {
      if (next !== 'share')
        throw new SecAggError('bad_phase', `shareKeys called while the client expects ${next}`)
      checkSession(r, 'the roster')
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
      step('share', 'mask')
      roster = r
      sPublicOf = sKeysOf
      cPublicOf = cKeysOf

      // One Shamir share per roster member, in roster order; this client keeps its own.
      const n = clients.length
      const seedShares = await splitSecret(seed, n, r.threshold)
      const keyShares = await splitSecret(await exportPrivateScalar(sKeys.privateKey), n, r.threshold)
      const shares: ShareKeysMessage['shares'] = []
      for (let i = 0; i < n; i++) {
        const to = clients[i]!.id
        if (to === id) {
          ownShares = { seed: seedShares[i]!, key: keyShares[i]! }
          continue
        }
        const key = await deriveKey(
          await agree(cKeys.privateKey, cPublicOf.get(to)!),
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
    },

    async maskInput(inbox, vector) {
      if (next !== 'mask')
        throw new SecAggError('bad_phase', `maskInput called while the client expects ${next}`)
      checkSession(inbox, 'the share inbox')
      if (inbox.to !== id) throw new SecAggError('bad_message', `the inbox is for ${inbox.to}, not ${id}`)
      if (!(vector instanceof Uint32Array) || vector.length !== vectorLength) {
        throw new SecAggError(
          'vector_length',
          `the vector must be a Uint32Array of ${vectorLength}, got ${vector?.length ?? typeof vector}`,
        )
      }
      const threshold = roster!.threshold
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
        const cPublic = cPublicOf.get(from)
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
      step('mask', 'unmask')
      for (const [from, shares] of opened) received.set(from, shares)
      received.set(id, ownShares!)

      // y = x + PRG(b_u) + Σ_{v>u} PRG(s_uv) − Σ_{v<u} PRG(s_uv); Uint32Array stores wrap mod 2^32.
      const masked = Uint32Array.from(vector)
      addInto(
        masked,
        await maskStream(await deriveKey(seed, selfMaskInfo(sessionId), 'AES-CTR'), vectorLength),
        1,
      )
      for (const v of opened.keys()) {
        const secret = await agree(sKeys.privateKey, sPublicOf.get(v)!)
        const stream = await maskStream(
          await deriveKey(secret, pairMaskInfo(sessionId, id, v), 'AES-CTR'),
          vectorLength,
        )
        addInto(masked, stream, v > id ? 1 : -1)
      }
      return { type: 'masked-input', sessionId, id, masked }
    },

    async unmask(request) {
      // Callable again (a restarted server may ask twice); the revealed sets keep the answers consistent.
      if (next !== 'unmask')
        throw new SecAggError('bad_phase', `unmask called while the client expects ${next}`)
      checkSession(request, 'the unmask request')
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
      if (survivors.length < roster!.threshold) {
        throw new SecAggError(
          'too_few_survivors',
          `${survivors.length} survivors is below the threshold ${roster!.threshold}`,
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
    },
  }

  // One step at a time: the phase checks happen before the awaits, so two overlapping calls could both pass.
  let busy = false
  const exclusive =
    <A extends unknown[], R>(name: string, step: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (busy) throw new SecAggError('bad_phase', `${name} called while another step is still running`)
      busy = true
      try {
        return await step(...args)
      } finally {
        busy = false
      }
    }
  return {
    id,
    sessionId,
    advertiseKeys: exclusive('advertiseKeys', steps.advertiseKeys),
    shareKeys: exclusive('shareKeys', steps.shareKeys),
    maskInput: exclusive('maskInput', steps.maskInput),
    unmask: exclusive('unmask', steps.unmask),
  }
}

/** @internal Bytes of one encrypted share pair: u16 from, u16 to, two 33-byte shares, 16-byte GCM tag. */
export const CIPHERTEXT_BYTES = 4 + 2 * SHARE_BYTES + 16

/** @internal target += sign·stream, mod 2^32. */
export function addInto(target: Uint32Array, stream: Uint32Array, sign: 1 | -1): void {
  if (sign === 1) for (let i = 0; i < target.length; i++) target[i] = target[i]! + stream[i]!
  else for (let i = 0; i < target.length; i++) target[i] = target[i]! - stream[i]!
}

function u16(n: number): Uint8Array {
  const out = new Uint8Array(2)
  new DataView(out.buffer).setUint16(0, n)
  return out
}
