/** Why a message was refused. Stable strings: servers put them in `{ error: { code } }`. */
export type ProtocolErrorCode =
  | 'bad_magic'
  | 'unsupported_version'
  | 'truncated'
  | 'trailing_bytes'
  | 'checksum'
  | 'bad_header'
  | 'bad_tensor'
  | 'bad_row_ids'
  | 'non_finite'
  | 'bad_sample_count'
  | 'shape_mismatch'
  | 'bad_message'

/**
 * A message that does not follow the wire format. Thrown by every decoder and validator here.
 * @example
 * try { decodeUpdate(bytes) } catch (err) { if (err instanceof ProtocolError) reply(400, err.code, err.message) }
 */
export class ProtocolError extends Error {
  override name = 'ProtocolError'
  readonly code: ProtocolErrorCode

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
