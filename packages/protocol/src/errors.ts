// The error base every fedrec package builds its coded errors on, and the protocol's own refusals.

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
  /** A model patch applied to another model than the one it was made from (version or catalogue). */
  | 'base_mismatch'
  /** A patched model whose SHA-256 differs from the one the patch promised. */
  | 'digest_mismatch'

/**
 * Base of fedrec's error classes: a stable, machine-readable `code` next to the human message. Each layer
 * subclasses it with its own code union and `name` (names survive a worker boundary, classes do not).
 * @example class ModelError extends CodedError<'non_finite' | 'bad_option'> { override name = 'ModelError' }
 */
export class CodedError<Code extends string> extends Error {
  readonly code: Code

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/**
 * A message that does not follow the wire format. Thrown by every decoder and validator here.
 * @example
 * try { decodeUpdate(bytes) } catch (err) { if (err instanceof ProtocolError) reply(400, err.code, err.message) }
 */
export class ProtocolError extends CodedError<ProtocolErrorCode> {
  override name = 'ProtocolError'
}
