import { describe, expect, it } from 'vitest'
import { isSecAggError, SecAggError } from './errors.ts'

describe('isSecAggError', () => {
  it('accepts a SecAggError', () => {
    expect(isSecAggError(new SecAggError('bad_phase', 'not now'))).toBe(true)
  })

  it('accepts one rebuilt from a worker message: a plain Error with its name and code', () => {
    const rebuilt = Object.assign(new Error('client 3 already answered'), {
      name: 'SecAggError',
      code: 'duplicate_message',
    })
    expect(isSecAggError(rebuilt)).toBe(true)
  })

  it('refuses other errors, unknown codes and non-errors', () => {
    expect(isSecAggError(new Error('plain'))).toBe(false)
    expect(isSecAggError(Object.assign(new Error('x'), { name: 'SecAggError' }))).toBe(false)
    expect(isSecAggError(Object.assign(new Error('x'), { name: 'SecAggError', code: 'nope' }))).toBe(false)
    expect(isSecAggError(Object.assign(new Error('x'), { name: 'ModelError', code: 'bad_phase' }))).toBe(
      false,
    )
    expect(isSecAggError({ name: 'SecAggError', code: 'bad_phase', message: 'x' })).toBe(false)
    expect(isSecAggError(undefined)).toBe(false)
  })
})
