// Checks of the parts of a client's message the server keeps: public keys and lists of shares.
import { fromBase64Url } from './bytes.ts'
import { PUBLIC_KEY_BYTES } from './crypto.ts'
import { SecAggError } from './errors.ts'
import { SHARE_BYTES } from './shamir.ts'

/** The base64url P-256 public key `value`, checked to be an uncompressed point. */
export function checkPublicKey(value: unknown, what: string): string {
  const bytes = fromBase64Url(value, PUBLIC_KEY_BYTES, what)
  if (bytes[0] !== 4) throw new SecAggError('bad_message', `${what} must be an uncompressed point (0x04 …)`)
  return String(value)
}

/** Checks that `list` holds exactly one well-formed share of each id in `expected`. */
export function checkShareList(list: unknown, expected: readonly number[], what: string): void {
  if (!Array.isArray(list) || list.length !== expected.length) {
    throw new SecAggError(
      'bad_message',
      `${what}: expected ${expected.length} shares, got ${Array.isArray(list) ? list.length : typeof list}`,
    )
  }
  const want = new Set(expected)
  const seen = new Set<number>()
  for (const item of list as { of: unknown; share: unknown }[]) {
    if (
      typeof item !== 'object' ||
      item === null ||
      typeof item.of !== 'number' ||
      !want.has(item.of) ||
      seen.has(item.of)
    ) {
      throw new SecAggError(
        'bad_message',
        `${what}: a share of ${String(item?.of)} was not asked for or is repeated`,
      )
    }
    seen.add(item.of)
    fromBase64Url(item.share, SHARE_BYTES, `${what} of ${item.of}`)
  }
}
