// The messages of the four rounds of Bonawitz et al.'s protocol as they cross the wire. Bytes are base64url
// without padding; the masked vector is binary (the aggregator frames it, 4 bytes per element). Validators
// of the outer JSON live in @fedrec/protocol; the client and server here re-check every field they use.

/** Round 0, client → server: the two public keys (c: share encryption, s: pairwise masks). */
export interface AdvertiseKeysMessage {
  type: 'advertise-keys'
  sessionId: string
  id: number
  /** Raw uncompressed P-256 point (65 bytes), base64url. */
  cPublicKey: string
  sPublicKey: string
}

/** One roster entry. */
export interface RosterEntry {
  id: number
  cPublicKey: string
  sPublicKey: string
}

/** Server → clients after round 0: who is in the cohort (sorted by id) and the Shamir threshold t. */
export interface SecAggRoster {
  type: 'roster'
  sessionId: string
  threshold: number
  clients: RosterEntry[]
}

/** One encrypted share pair (b_u share and s_u share) for one recipient. */
export interface EncryptedShare {
  /** 12-byte AES-GCM IV, base64url. */
  iv: string
  /** AES-GCM ciphertext + tag (86 bytes), base64url. */
  ciphertext: string
}

/** Round 1, client → server: an encrypted share pair for every other roster client. */
export interface ShareKeysMessage {
  type: 'share-keys'
  sessionId: string
  id: number
  /** SHA-256 commitment to the self-mask seed b_u (32 bytes), so a wrong reconstruction is detected. */
  seedCommitment: string
  shares: (EncryptedShare & { to: number })[]
}

/** Server → client `to` after round 1: the shares addressed to it by every other client that shared (U2). */
export interface ShareInbox {
  type: 'share-inbox'
  sessionId: string
  to: number
  shares: (EncryptedShare & { from: number })[]
}

/** Round 2, client → server: the masked vector y_u (binary on the wire: u32 little-endian). */
export interface MaskedInputMessage {
  type: 'masked-input'
  sessionId: string
  id: number
  masked: Uint32Array
}

/** Server → survivors after round 2: U3 (sent a masked input) and U2 \ U3 (shared keys, then dropped). */
export interface UnmaskRequest {
  type: 'unmask-request'
  sessionId: string
  survivors: number[]
  dropped: number[]
}

/** One Shamir share (33 bytes: 32 of secret + the x-coordinate), base64url, of client `of`'s secret. */
export interface ShareOf {
  of: number
  share: string
}

/** Round 3, client → server: b shares of the survivors and s-key shares of the dropped, never both. */
export interface UnmaskResponse {
  type: 'unmask-response'
  sessionId: string
  id: number
  selfMaskShares: ShareOf[]
  keyShares: ShareOf[]
}

/** What the server learns at the end: the sum of the survivors' vectors, mod 2^32. */
export interface SecAggResult {
  sum: Uint32Array
  survivors: number[]
  dropped: number[]
}
