// The error class of the privacy maths (clipping, noise, accounting).
import { CodedError } from '@fedrec/protocol'

/** Why the privacy maths refused an input. Stable strings, like the protocol's error codes. */
export type PrivacyErrorCode = 'bad_option'

/**
 * A privacy parameter out of range (a sampling rate outside [0, 1], a negative noise multiplier, δ outside
 * (0, 1), an order ≤ 1…). Thrown before any state changes, so an accountant never holds a half-composed round.
 * @example
 * try { accountant.compose({ sampleRate: 2, noiseMultiplier: 1 }) } catch (err) { if (err instanceof PrivacyError) log(err.code) }
 */
export class PrivacyError extends CodedError<PrivacyErrorCode> {
  override name = 'PrivacyError'
}
