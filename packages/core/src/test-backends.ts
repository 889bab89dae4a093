// Test support only (not exported): one suite run on every backend, after tfjs's `describeWithFlags`.
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect } from 'vitest'
import { type BackendName, selectBackend } from './backend.ts'

/** The backends a Node test can run (register them with `./test-backend-node.ts`). */
export const NODE_BACKENDS = ['wasm', 'cpu'] as const satisfies readonly BackendName[]
/** The backends a test in real Chromium can run (register them with `./test-backend-browser.ts`). */
export const BROWSER_BACKENDS = ['webgl', 'wasm', 'cpu'] as const satisfies readonly BackendName[]

/**
 * Declares `suite` once per backend, each copy in its own `describe` that switches tfjs to that backend before
 * its first test, so the same assertions hold on every backend instead of a hand-written loop in each test.
 * Suites of one file run in order, so a suite's tests see its backend.
 * @example describeWithBackends('createScorer', NODE_BACKENDS, () => { it('ranks by score', …) })
 */
export function describeWithBackends(
  name: string,
  backends: readonly BackendName[],
  suite: (backend: BackendName) => void,
): void {
  for (const backend of backends)
    describe(`${name} on ${backend}`, () => {
      beforeAll(async () => {
        expect(await selectBackend(tf, [backend])).toBe(backend)
      })
      suite(backend)
    })
}
