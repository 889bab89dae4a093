// The server's last step: reconstructing the survivors' seeds and the dropped members' s keys from t unmask
// responses and removing every mask from the masked sum.
import { concatBytes, fromBase64Url, utf8 } from './bytes.ts'
import { addInto } from './client-state.ts'
import {
  agree,
  deriveKey,
  equalBytes,
  importPrivateScalar,
  importPublicKey,
  maskStream,
  PUBLIC_KEY_BYTES,
  sha256,
} from './crypto.ts'
import { SecAggError } from './errors.ts'
import { pairMaskInfo, seedCommitmentLabel, selfMaskInfo } from './labels.ts'
import type { SecAggResult, ShareKeysMessage, UnmaskResponse } from './messages.ts'
import type { SecAggServerState } from './server.ts'
import { combineShares, SHARE_BYTES } from './shamir.ts'

/**
 * The unmasked sum of the cohort in `s` (phase unmask, at least t `responses`); `shareKeys` holds each
 * member's seed commitment. Leaves `s` as it was.
 */
export async function unmaskSum(
  s: SecAggServerState,
  responses: readonly UnmaskResponse[],
  shareKeys: ReadonlyMap<number, ShareKeysMessage>,
): Promise<SecAggResult> {
  const { sessionId, vectorLength } = s.options
  const t = s.roster!.threshold
  const request = s.request!
  // Deterministic choice of t responders, so a replay after a restart gives the same result.
  const responders = [...responses].sort((a, b) => a.id - b.id).slice(0, t)
  const sum = Uint32Array.from(s.maskedSum)
  const rosterById = new Map(s.roster!.clients.map((c) => [c.id, c]))

  for (const u of request.survivors) {
    const shares = responders.map((r) =>
      fromBase64Url(r.selfMaskShares.find((x) => x.of === u)!.share, SHARE_BYTES, 'share'),
    )
    const seed = await combineShares(shares, `seed of ${u}`)
    const commitment = await sha256(concatBytes(utf8(seedCommitmentLabel(sessionId, u)), seed))
    if (!equalBytes(commitment, fromBase64Url(shareKeys.get(u)!.seedCommitment, 32, 'commitment'))) {
      throw new SecAggError(
        'reconstruct_failed',
        `the reconstructed seed of ${u} does not match its commitment`,
      )
    }
    addInto(
      sum,
      await maskStream(await deriveKey(seed, selfMaskInfo(sessionId), 'AES-CTR'), vectorLength),
      -1,
    )
  }
  for (const u of request.dropped) {
    const shares = responders.map((r) =>
      fromBase64Url(r.keyShares.find((x) => x.of === u)!.share, SHARE_BYTES, 'share'),
    )
    const scalar = await combineShares(shares, `s key of ${u}`)
    const sPublic = fromBase64Url(rosterById.get(u)!.sPublicKey, PUBLIC_KEY_BYTES, 's key')
    const sPrivate = await importPrivateScalar(scalar, sPublic, `s key of ${u}`)
    for (const v of request.survivors) {
      const vPublic = await importPublicKey(
        fromBase64Url(rosterById.get(v)!.sPublicKey, PUBLIC_KEY_BYTES, 's key'),
        `s key of ${v}`,
      )
      const stream = await maskStream(
        await deriveKey(await agree(sPrivate, vPublic), pairMaskInfo(sessionId, u, v), 'AES-CTR'),
        vectorLength,
      )
      // v added +PRG(s_uv) if u > v and −PRG(s_uv) if u < v; take that back out.
      addInto(sum, stream, u > v ? -1 : 1)
    }
  }
  return { sum, survivors: [...request.survivors], dropped: [...request.dropped] }
}
