// Domain-separation labels. Each binds the session id (unique per cohort attempt) and, where a pair is
// involved, both ids, so a key or mask derived for one purpose, pair or round never serves another.
const V = 'fedrec/secagg/v1'

/** @internal HKDF info of the pairwise share-encryption key. */
export function shareKeyInfo(sessionId: string, a: number, b: number): string {
  return `${V}/share-key|${sessionId}|${Math.min(a, b)}|${Math.max(a, b)}`
}

/** @internal AES-GCM associated data of the share pair sent from → to. */
export function shareAssociatedData(sessionId: string, from: number, to: number): string {
  return `${V}/share|${sessionId}|${from}|${to}`
}

/** @internal HKDF info of the pairwise mask PRG key. */
export function pairMaskInfo(sessionId: string, a: number, b: number): string {
  return `${V}/pair|${sessionId}|${Math.min(a, b)}|${Math.max(a, b)}`
}

/** @internal HKDF info of the self-mask PRG key. */
export function selfMaskInfo(sessionId: string): string {
  return `${V}/self|${sessionId}`
}

/** @internal Prefix of the seed commitment hash input. */
export function seedCommitmentLabel(sessionId: string, id: number): string {
  return `${V}/seed|${sessionId}|${id}|`
}
