// The limits of a secure-aggregation cohort (size, threshold, ids) that client and server both check.
import { SecAggError } from './errors.ts'

/** Smallest cohort either side accepts by default: below it the sum says too much about each member. */
export const DEFAULT_SECAGG_MIN_CLIENTS = 3
/** Shamir shares over GF(256) have 255 distinct x-coordinates, so a cohort holds at most 255 clients. */
export const MAX_SECAGG_CLIENTS = 255
/** Client ids are u16 in the encrypted share plaintext. */
export const MAX_SECAGG_CLIENT_ID = 0xffff

const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * The default Shamir threshold for a cohort of n: a strict majority, so two disjoint groups can never both
 * reconstruct (the server cannot get b_u from one half and s_u from the other).
 * @example defaultThreshold(5) // 3
 */
export function defaultThreshold(n: number): number {
  return Math.floor(n / 2) + 1
}

/**
 * Checks a cohort of n clients with threshold t against the minimum cohort size. Both the client (on the
 * roster) and the server (on closing AdvertiseKeys) run it, so neither trusts the other's arithmetic.
 * @example checkCohort(5, 3, 3) // ok; checkCohort(4, 2, 3) throws threshold_too_low
 */
export function checkCohort(n: number, t: number, minClients: number): void {
  if (n < minClients) {
    throw new SecAggError('cohort_too_small', `the cohort has ${n} clients, the minimum is ${minClients}`)
  }
  if (n > MAX_SECAGG_CLIENTS) {
    throw new SecAggError('cohort_too_large', `the cohort has ${n} clients, at most ${MAX_SECAGG_CLIENTS}`)
  }
  if (!Number.isSafeInteger(t) || t < 2 || t > n || 2 * t <= n) {
    throw new SecAggError(
      'threshold_too_low',
      `threshold ${t} for ${n} clients must be an integer with n/2 < t <= n and t >= 2`,
    )
  }
}

/** @internal Throws `bad_parameters` unless minClients is an integer in 2..255 (Shamir needs t ≥ 2). */
export function checkMinClients(minClients: number): void {
  if (!Number.isSafeInteger(minClients) || minClients < 2 || minClients > MAX_SECAGG_CLIENTS) {
    throw new SecAggError(
      'bad_parameters',
      `minClients must be an integer in 2..${MAX_SECAGG_CLIENTS}, got ${minClients}`,
    )
  }
}

/** @internal Throws `bad_parameters` for a session id that is not 1..128 of [A-Za-z0-9._:-]. */
export function checkSessionId(sessionId: unknown): asserts sessionId is string {
  if (typeof sessionId !== 'string' || !SESSION_ID.test(sessionId)) {
    throw new SecAggError(
      'bad_parameters',
      `sessionId must be 1..128 characters of [A-Za-z0-9._:-], got ${JSON.stringify(sessionId)}`,
    )
  }
}

/** @internal True for a client id the protocol can carry (integer 1..65535). */
export function isClientId(id: unknown): id is number {
  return typeof id === 'number' && Number.isInteger(id) && id >= 1 && id <= MAX_SECAGG_CLIENT_ID
}

/** @internal Throws `bad_parameters` unless the vector length is a positive integer below 2^28. */
export function checkVectorLength(vectorLength: number): void {
  // 2^28 u32 = 1 GiB: far beyond any catalogue we serve, small enough to refuse absurd sizes early.
  if (!Number.isSafeInteger(vectorLength) || vectorLength < 1 || vectorLength >= 2 ** 28) {
    throw new SecAggError(
      'bad_parameters',
      `vectorLength must be an integer in 1..2^28-1, got ${vectorLength}`,
    )
  }
}
