// The random ids of the protocol (client ids, idempotency keys): made, checked, and packed into 16 bytes.
import { ID_BYTES } from './constants.ts'
import { ProtocolError } from './errors.ts'
import { platform } from './platform.ts'

const HEX = /^[0-9a-f]{32}$/

/**
 * A fresh random id (client id or idempotency key): 16 bytes from the platform's CSPRNG as 32 hex digits.
 * @example const clientId = newRandomId() // 'c0ffee…'
 */
export function newRandomId(): string {
  const bytes = new Uint8Array(ID_BYTES)
  platform.crypto.getRandomValues(bytes)
  return bytesToHex(bytes)
}

/** True for a well-formed id: 32 lower-case hex digits. */
export const isRandomId = (x: unknown): x is string => typeof x === 'string' && HEX.test(x)

export function bytesToHex(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out
}

export function hexToBytes(hex: string, what: string): Uint8Array {
  if (!isRandomId(hex))
    throw new ProtocolError(
      'bad_header',
      `${what} must be 32 lower-case hex digits, got ${JSON.stringify(hex)}`,
    )
  const out = new Uint8Array(ID_BYTES)
  for (let i = 0; i < ID_BYTES; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}
