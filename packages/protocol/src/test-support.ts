// Test support only (not exported from the package).
import { expect } from 'vitest'
import { ProtocolError } from './errors.ts'

/** Runs `fn`, expects it to throw a ProtocolError, and returns its code. */
export function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError)
    return (err as ProtocolError).code
  }
  throw new Error('expected a ProtocolError')
}
