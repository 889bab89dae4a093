// WebCrypto primitives of the protocol: ECDH P-256 key agreement, HKDF-SHA-256, AES-GCM for shares and
// AES-CTR as the mask PRG. `globalThis.crypto.subtle` exists in Chromium and Node 20, so this file is
// platform-free. Every label starts with "fedrec/secagg/v1/" and carries the session id, so keys and masks
// of one cohort never reappear in another.
import { concatBytes, utf8 } from './bytes.ts'
import { SecAggError } from './errors.ts'
import { type CryptoKey, type CryptoKeyPair, platform, type SubtleCrypto } from './platform.ts'

const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const
const ZERO_SALT = new Uint8Array(32)
/** Raw uncompressed P-256 point: 0x04 | x | y. */
export const PUBLIC_KEY_BYTES = 65
/** The private scalar d of a P-256 key. */
export const PRIVATE_SCALAR_BYTES = 32
/** Seed of the self mask b_u. */
export const SEED_BYTES = 32
export const IV_BYTES = 12

function subtle(): SubtleCrypto {
  const s = platform.crypto?.subtle
  if (s === undefined) {
    throw new SecAggError(
      'bad_parameters',
      'WebCrypto (crypto.subtle) is missing: a secure context is required',
    )
  }
  return s
}

/** @internal A fresh ECDH P-256 key pair; `extractable` only for the s key, whose scalar is secret-shared. */
export function generateKeyPair(extractable: boolean): Promise<CryptoKeyPair> {
  return subtle().generateKey(ECDH, extractable, ['deriveBits'])
}

/** @internal The raw uncompressed public point. */
export async function exportPublicKey(key: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await subtle().exportKey('raw', key))
}

/** @internal Imports a raw public point; a point off the curve fails with `bad_message`. */
export async function importPublicKey(raw: Uint8Array<ArrayBuffer>, what: string): Promise<CryptoKey> {
  try {
    return await subtle().importKey('raw', raw, ECDH, true, [])
  } catch (cause) {
    throw new SecAggError('bad_message', `${what} is not a valid P-256 public key`, { cause })
  }
}

/** @internal The private scalar d (32 bytes) of an extractable key. */
export async function exportPrivateScalar(key: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  const jwk = await subtle().exportKey('jwk', key)
  if (typeof jwk.d !== 'string') throw new SecAggError('bad_parameters', 'the key has no private scalar')
  return base64UrlLoose(jwk.d)
}

// PKCS#8 wrapping of an RFC 5915 ECPrivateKey that holds only d (no public key): importing it makes WebCrypto
// compute the public point from d, which is how a reconstructed scalar is checked against the roster.
const PKCS8_P256_PREFIX = hex('3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420')

/**
 * @internal Imports a reconstructed scalar and checks that its public point is the advertised one, so a wrong
 * or tampered share set fails loudly (`reconstruct_failed`) instead of unmasking to garbage.
 */
export async function importPrivateScalar(
  d: Uint8Array,
  expectedPublic: Uint8Array,
  what: string,
): Promise<CryptoKey> {
  let key: CryptoKey
  try {
    key = await subtle().importKey('pkcs8', concatBytes(PKCS8_P256_PREFIX, d), ECDH, true, ['deriveBits'])
  } catch (cause) {
    throw new SecAggError('reconstruct_failed', `${what}: the reconstructed scalar is not a P-256 key`, {
      cause,
    })
  }
  const jwk = await subtle().exportKey('jwk', key)
  const x = base64UrlLoose(jwk.x ?? '')
  const y = base64UrlLoose(jwk.y ?? '')
  if (!equalBytes(concatBytes(Uint8Array.of(4), x, y), expectedPublic)) {
    throw new SecAggError(
      'reconstruct_failed',
      `${what}: the reconstructed key does not match the advertised public key (bad or too few shares)`,
    )
  }
  return key
}

/** @internal ECDH(private, public) → 32 shared bytes. */
export async function agree(privateKey: CryptoKey, publicKey: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await subtle().deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256))
}

/** @internal HKDF-SHA-256 of `secret` with the given label → a 256-bit AES key for `algorithm`. */
export async function deriveKey(
  secret: Uint8Array<ArrayBuffer>,
  info: string,
  algorithm: 'AES-GCM' | 'AES-CTR',
): Promise<CryptoKey> {
  const base = await subtle().importKey('raw', secret, 'HKDF', false, ['deriveKey'])
  return subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: ZERO_SALT, info: utf8(info) },
    base,
    { name: algorithm, length: 256 },
    false,
    algorithm === 'AES-GCM' ? ['encrypt', 'decrypt'] : ['encrypt'],
  )
}

/**
 * @internal The PRG: `length` u32 words of AES-256-CTR keystream (counter block 0, 64-bit counter). With a fresh
 * key per (session, pair) the counter never repeats. Words are read in the platform's byte order, which is
 * little-endian on every engine we run on; clients and server compute the same words either way.
 */
export async function maskStream(key: CryptoKey, length: number): Promise<Uint32Array> {
  const zeros = new Uint8Array(length * 4)
  const stream = await subtle().encrypt(
    { name: 'AES-CTR', counter: new Uint8Array(16), length: 64 },
    key,
    zeros,
  )
  return new Uint32Array(stream)
}

/** @internal AES-256-GCM with associated data; returns the ciphertext with its 16-byte tag. */
export async function seal(
  key: CryptoKey,
  iv: Uint8Array<ArrayBuffer>,
  plaintext: Uint8Array<ArrayBuffer>,
  associatedData: string,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(
    await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: utf8(associatedData) }, key, plaintext),
  )
}

/** @internal Opens an AES-GCM ciphertext; a wrong key, IV, AD or a flipped bit fails with `decrypt_failed`. */
export async function open(
  key: CryptoKey,
  iv: Uint8Array<ArrayBuffer>,
  ciphertext: Uint8Array<ArrayBuffer>,
  associatedData: string,
  what: string,
): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return new Uint8Array(
      await subtle().decrypt({ name: 'AES-GCM', iv, additionalData: utf8(associatedData) }, key, ciphertext),
    )
  } catch (cause) {
    throw new SecAggError('decrypt_failed', `${what}: the encrypted share does not authenticate`, { cause })
  }
}

/** @internal SHA-256, for the self-mask seed commitment. */
export async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await subtle().digest('SHA-256', data))
}

/** @internal Cryptographically random bytes. */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const crypto = platform.crypto
  if (crypto === undefined)
    throw new SecAggError('bad_parameters', 'WebCrypto (crypto.getRandomValues) is missing')
  return crypto.getRandomValues(new Uint8Array(n))
}

/** @internal Constant-time-ish byte comparison (lengths are public). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

function hex(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(text.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16)
  return out
}

// JWK fields are unpadded base64url produced by WebCrypto itself, so a lenient decoder is enough here.
function base64UrlLoose(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/')
  const bin = platform.atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}
