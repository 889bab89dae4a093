// Thin wrapper over the audited `shamir-secret-sharing` (Privy; GF(256), WebCrypto randomness): a share is the
// secret's length plus one x-coordinate byte. We never hand-roll the field arithmetic.
import { combine, split } from 'shamir-secret-sharing'
import { SecAggError } from './errors.ts'

/** Bytes of one share of a 32-byte secret. */
export const SHARE_BYTES = 33

/** @internal Splits a 32-byte secret into n shares, any t of which reconstruct it. */
export async function splitSecret(secret: Uint8Array, n: number, t: number): Promise<Uint8Array[]> {
  return split(secret, n, t)
}

/** @internal Reconstructs a secret from at least t shares; the caller verifies the result. */
export async function combineShares(shares: Uint8Array[], what: string): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return new Uint8Array(await combine(shares))
  } catch (cause) {
    throw new SecAggError('reconstruct_failed', `${what}: the shares do not combine`, { cause })
  }
}
