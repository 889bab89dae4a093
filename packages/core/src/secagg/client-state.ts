// One secure-aggregation client's state: its keys, its seed and what it learnt so far, shared by the
// per-phase files (client-share-keys.ts, client-mask-input.ts, client-unmask.ts).
import { SecAggError } from './errors.ts'
import type { SecAggRoster } from './messages.ts'
import type { CryptoKey, CryptoKeyPair } from './platform.ts'
import { SHARE_BYTES } from './shamir.ts'

export type Phase = 'advertise' | 'share' | 'mask' | 'unmask'

export interface ReceivedShares {
  seed: Uint8Array
  key: Uint8Array
}

/** Everything one client holds; the secrets (private keys, seed, shares received) never leave it. */
export interface ClientState {
  readonly sessionId: string
  readonly id: number
  readonly vectorLength: number
  readonly minClients: number
  readonly cKeys: CryptoKeyPair
  readonly sKeys: CryptoKeyPair
  readonly cPublic: Uint8Array
  readonly sPublic: Uint8Array
  /** The self-mask seed b_u. */
  readonly seed: Uint8Array<ArrayBuffer>
  /** The step this client expects next. */
  next: Phase
  roster: SecAggRoster | undefined
  sPublicOf: Map<number, CryptoKey>
  cPublicOf: Map<number, CryptoKey>
  /** This client's own shares of its seed and s key. */
  ownShares: ReceivedShares | undefined
  /** U2 as this client saw it (the senders of its inbox plus itself), and their shares for it. */
  readonly received: Map<number, ReceivedShares>
  readonly revealedSeedOf: Set<number>
  readonly revealedKeyOf: Set<number>
}

/** Moves the client from `expected` to `then`; refuses a step out of order. */
export function step(state: ClientState, expected: Phase, then: Phase): void {
  if (state.next !== expected)
    throw new SecAggError('bad_phase', `${expected} called while the client expects ${state.next}`)
  state.next = then
}

/** Refuses a message of another session. */
export function checkSession(state: ClientState, message: { sessionId: unknown }, what: string): void {
  if (message.sessionId !== state.sessionId) {
    throw new SecAggError(
      'bad_message',
      `${what} is for session ${JSON.stringify(message.sessionId)}, this client is in ${state.sessionId}`,
    )
  }
}

/** @internal Bytes of one encrypted share pair: u16 from, u16 to, two 33-byte shares, 16-byte GCM tag. */
export const CIPHERTEXT_BYTES = 4 + 2 * SHARE_BYTES + 16

/** @internal target += sign·stream, mod 2^32. */
export function addInto(target: Uint32Array, stream: Uint32Array, sign: 1 | -1): void {
  if (sign === 1) for (let i = 0; i < target.length; i++) target[i] = target[i]! + stream[i]!
  else for (let i = 0; i < target.length; i++) target[i] = target[i]! - stream[i]!
}
