// A secure-aggregation client: its options and interface, and a thin facade that creates its state and
// runs one phase file per step (client-share-keys.ts, client-mask-input.ts, client-unmask.ts).
import { toBase64Url } from './bytes.ts'
import { maskInput } from './client-mask-input.ts'
import { shareKeys } from './client-share-keys.ts'
import { type ClientState, step } from './client-state.ts'
import { unmask } from './client-unmask.ts'
import { exportPublicKey, generateKeyPair, randomBytes, SEED_BYTES } from './crypto.ts'
import { SecAggError } from './errors.ts'
import type {
  AdvertiseKeysMessage,
  MaskedInputMessage,
  SecAggRoster,
  ShareInbox,
  ShareKeysMessage,
  UnmaskRequest,
  UnmaskResponse,
} from './messages.ts'
import {
  checkMinClients,
  checkSessionId,
  checkVectorLength,
  DEFAULT_SECAGG_MIN_CLIENTS,
  isClientId,
} from './params.ts'

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

  const state: ClientState = {
    sessionId,
    id,
    vectorLength,
    minClients,
    cKeys,
    sKeys,
    cPublic,
    sPublic,
    seed,
    next: 'advertise',
    roster: undefined,
    sPublicOf: new Map(),
    cPublicOf: new Map(),
    ownShares: undefined,
    received: new Map(),
    revealedSeedOf: new Set(),
    revealedKeyOf: new Set(),
  }
  const advertiseKeys = async (): Promise<AdvertiseKeysMessage> => {
    step(state, 'advertise', 'share')
    return {
      type: 'advertise-keys',
      sessionId,
      id,
      cPublicKey: toBase64Url(cPublic),
      sPublicKey: toBase64Url(sPublic),
    }
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
    advertiseKeys: exclusive('advertiseKeys', advertiseKeys),
    shareKeys: exclusive('shareKeys', (roster: SecAggRoster) => shareKeys(state, roster)),
    maskInput: exclusive('maskInput', (inbox: ShareInbox, vector: Uint32Array) =>
      maskInput(state, inbox, vector),
    ),
    unmask: exclusive('unmask', (request: UnmaskRequest) => unmask(state, request)),
  }
}
