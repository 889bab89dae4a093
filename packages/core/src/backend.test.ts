import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { BackendError, selectBackend } from './backend.ts'

describe('selectBackend', () => {
  it('takes the first backend that works, skipping unregistered ones', async () => {
    // WebGL is not registered in Node: setBackend throws, and the next one is tried.
    expect(await selectBackend(tf, ['webgl', 'wasm', 'cpu'])).toBe('wasm')
    expect(tf.getBackend()).toBe('wasm')
    expect(await selectBackend(tf, ['cpu'])).toBe('cpu')
  })

  it('throws a BackendError listing every attempt when none works', async () => {
    const err = await selectBackend(tf, ['webgl']).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BackendError)
    expect((err as BackendError).name).toBe('BackendError')
    expect((err as BackendError).attempts).toEqual([
      { backend: 'webgl', error: expect.stringMatching(/webgl/) },
    ])
    await expect(selectBackend(tf, [])).rejects.toThrow(/none requested/)
  })
})
