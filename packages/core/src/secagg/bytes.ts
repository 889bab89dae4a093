// Byte helpers shared by the secagg client and server. base64url without padding keeps JSON messages short
// and URL-safe; both Chromium and Node 20 lack Uint8Array.fromBase64, hence the small codec.
import { SecAggError } from './errors.ts'
import { platform } from './platform.ts'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const LOOKUP = new Int16Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i

/** @internal Bytes → base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!
  }
  const rest = bytes.length - i
  if (rest === 1) {
    const n = bytes[i]! << 16
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]!
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8)
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]!
  }
  return out
}

/**
 * @internal base64url (no padding) → bytes; `expectedLength` guards against a forged size.
 * Throws `bad_message` naming `what` on a bad character, a bad length or a non-canonical tail.
 */
export function fromBase64Url(text: unknown, expectedLength: number, what: string): Uint8Array<ArrayBuffer> {
  if (typeof text !== 'string') throw new SecAggError('bad_message', `${what} must be a base64url string`)
  if (text.length !== Math.ceil((expectedLength * 4) / 3)) {
    throw new SecAggError(
      'bad_message',
      `${what} must encode ${expectedLength} bytes (${Math.ceil((expectedLength * 4) / 3)} base64url chars), got ${text.length} chars`,
    )
  }
  const out = new Uint8Array(expectedLength)
  let acc = 0
  let bits = 0
  let o = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    const v = code < 128 ? LOOKUP[code]! : -1
    if (v < 0) throw new SecAggError('bad_message', `${what}: invalid base64url character at ${i}`)
    acc = (acc << 6) | v
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >>> bits) & 0xff
    }
    acc &= (1 << bits) - 1
  }
  // Leftover bits must be zero, so every byte string has exactly one encoding.
  if (acc !== 0) throw new SecAggError('bad_message', `${what}: non-canonical base64url tail`)
  return out
}

const encoder = new platform.TextEncoder()

/** @internal UTF-8 bytes of a label, for HKDF info and AES-GCM associated data. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text)
}

/** @internal Concatenation of byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0
  for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}
