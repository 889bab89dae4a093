import * as Comlink from 'comlink'
import { describe, expect, it } from 'vitest'
import { registerErrorTransfer } from './error-transfer.ts'
import { FedrecError, isFedrecError } from './errors.ts'

// The handler as comlink calls it: serialize on the worker's side, deserialize (which throws) on the page's.
function across(value: unknown): unknown {
  registerErrorTransfer()
  const handler = Comlink.transferHandlers.get('throw')!
  const [wire] = handler.serialize({ value })
  try {
    handler.deserialize(structuredClone(wire))
  } catch (err) {
    return err
  }
  throw new Error('deserialize did not throw')
}

describe('errors across the worker boundary', () => {
  it('carries a FedrecError with its code and message', () => {
    const err = across(new FedrecError('secagg_aborted', 'no cohort completed in time'))
    expect(isFedrecError(err)).toBe(true)
    expect(err).toMatchObject({
      name: 'FedrecError',
      code: 'secagg_aborted',
      message: 'no cohort completed in time',
    })
  })

  it("leaves every other thrown value to comlink's own handler", () => {
    const err = across(new TypeError('not ours'))
    expect(isFedrecError(err)).toBe(false)
    expect(err).toMatchObject({ name: 'TypeError', message: 'not ours' })
    expect(across('a string')).toBe('a string')
  })
})
