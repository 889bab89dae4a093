// For tests: which ModelError a call throws.
import { ModelError } from './errors.ts'

/**
 * The code of the ModelError `f` throws, undefined when it returns; any other error is rethrown.
 * @example expect(modelErrorCode(() => featureRows([['']], 64))).toBe('bad_feature')
 */
export function modelErrorCode(f: () => unknown): string | undefined {
  try {
    f()
  } catch (err) {
    if (err instanceof ModelError) return err.code
    throw err
  }
  return undefined
}
