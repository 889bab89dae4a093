// Client ids as the aggregator keeps them: salted hashes for the store, the rate limiters and the logs.
import { createHash, randomBytes } from 'node:crypto'

/**
 * A keyed hash of a client id, so neither the store nor the logs hold the id in clear, yet one client's two
 * uploads in a round can still be matched. The salt is per store: hashes do not link across deployments.
 * @example const hash = hashClientId(salt, update.clientId) // 64 hex digits
 */
export function hashClientId(salt: string, clientId: string): string {
  return createHash('sha256').update(salt).update('\0').update(clientId).digest('hex')
}

/** A fresh per-store salt: 16 random bytes as hex. */
export const newClientSalt = (): string => randomBytes(16).toString('hex')

/** A short, non-reversible tag for logs. */
export const logTag = (hash: string): string => hash.slice(0, 10)
