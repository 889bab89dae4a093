// The WebCrypto surface secagg uses, typed here because @fedrec/core compiles without the DOM or Node
// typings (it must run in both). Browsers, workers and Node 20 all provide these globals.

/** An opaque WebCrypto key handle. */
export interface CryptoKey {
  readonly type: string
  readonly algorithm: unknown
}

/** @internal */
export interface CryptoKeyPair {
  publicKey: CryptoKey
  privateKey: CryptoKey
}

/** @internal The JWK fields we read. */
export interface JsonWebKey {
  d?: string
  x?: string
  y?: string
}

type Bytes = Uint8Array<ArrayBuffer>
type Algorithm = string | { name: string; [parameter: string]: unknown }

/** @internal The SubtleCrypto methods secagg calls. */
export interface SubtleCrypto {
  generateKey(algorithm: Algorithm, extractable: boolean, usages: string[]): Promise<CryptoKeyPair>
  exportKey(format: 'raw', key: CryptoKey): Promise<ArrayBuffer>
  exportKey(format: 'jwk', key: CryptoKey): Promise<JsonWebKey>
  importKey(
    format: 'raw' | 'pkcs8',
    data: Bytes,
    algorithm: Algorithm,
    extractable: boolean,
    usages: string[],
  ): Promise<CryptoKey>
  deriveBits(algorithm: Algorithm, key: CryptoKey, length: number): Promise<ArrayBuffer>
  deriveKey(
    algorithm: Algorithm,
    key: CryptoKey,
    derived: Algorithm,
    extractable: boolean,
    usages: string[],
  ): Promise<CryptoKey>
  encrypt(algorithm: Algorithm, key: CryptoKey, data: Bytes): Promise<ArrayBuffer>
  decrypt(algorithm: Algorithm, key: CryptoKey, data: Bytes): Promise<ArrayBuffer>
  digest(algorithm: 'SHA-256', data: Bytes): Promise<ArrayBuffer>
}

interface Platform {
  crypto?: {
    subtle?: SubtleCrypto
    getRandomValues<T extends Uint8Array | Uint32Array>(array: T): T
  }
  TextEncoder: new () => { encode(input: string): Bytes }
  atob(data: string): string
  structuredClone<T>(value: T): T
}

/** @internal The globals, typed. */
export const platform = globalThis as unknown as Platform
