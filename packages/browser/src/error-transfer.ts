// Errors across the worker boundary: comlink's "throw" handler, extended to carry a FedrecError's code.
import * as Comlink from 'comlink'
import { FedrecError, type FedrecErrorCode, isFedrecError, isFedrecErrorCode } from './errors.ts'

/** A FedrecError as it crosses postMessage; `fedrec` tells it from comlink's own thrown values. */
interface WireError {
  fedrec: 'error'
  code: FedrecErrorCode
  message: string
  stack?: string
}

function isWireError(x: unknown): x is WireError {
  if (typeof x !== 'object' || x === null) return false
  const r = x as Record<string, unknown>
  return r.fedrec === 'error' && isFedrecErrorCode(r.code) && typeof r.message === 'string'
}

/** What comlink's "throw" handler is given: the thrown value under `value`. */
const thrownValue = (thrown: unknown): unknown =>
  typeof thrown === 'object' && thrown !== null && 'value' in thrown ? thrown.value : undefined

let registered = false

/**
 * Lets a FedrecError cross the worker boundary whole: comlink sends a thrown Error as `{ name, message,
 * stack }` only, so its `code` would be lost. Registered on both sides (the worker serialises, the page
 * deserialises); every other thrown value goes through comlink's own handler, so a shop's own comlink use
 * on the page is unchanged.
 * @example registerErrorTransfer(); Comlink.expose(api)
 */
export function registerErrorTransfer(): void {
  const builtIn = Comlink.transferHandlers.get('throw')
  if (registered || !builtIn) return
  registered = true
  Comlink.transferHandlers.set('throw', {
    canHandle: (value): value is unknown => builtIn.canHandle(value),
    serialize(thrown) {
      const value = thrownValue(thrown)
      if (!isFedrecError(value)) return builtIn.serialize(thrown)
      const wire: WireError = {
        fedrec: 'error',
        code: value.code,
        message: value.message,
        ...(value.stack ? { stack: value.stack } : {}),
      }
      return [wire, []]
    },
    deserialize(serialized) {
      if (!isWireError(serialized)) return builtIn.deserialize(serialized)
      const err = new FedrecError(serialized.code, serialized.message)
      if (serialized.stack) err.stack = serialized.stack
      throw err
    },
  })
}
