// Picking a tfjs backend that really works on this device, with a fallback, for the browser's worker and the
// Node simulator.
import type * as TF from '@tensorflow/tfjs-core'

/** The tfjs backends fedrec knows how to run on, fastest first in a browser. */
export type BackendName = 'webgl' | 'wasm' | 'cpu'

/** What one backend attempt said. */
export interface BackendAttempt {
  backend: BackendName
  error: string
}

/**
 * No backend in the requested order could run a tiny smoke test; `attempts` says why, one per backend.
 * Across a worker boundary the class is lost: compare `err.name === 'BackendError'`.
 * @example
 * try { await selectBackend(tf, ['webgl', 'wasm']) } catch (err) { if (err instanceof BackendError) report(err.attempts) }
 */
export class BackendError extends Error {
  override name = 'BackendError'
  readonly attempts: readonly BackendAttempt[]

  constructor(attempts: readonly BackendAttempt[]) {
    const tried = attempts.map((a) => `${a.backend}: ${a.error}`).join('; ')
    super(`no tfjs backend works (${tried || 'none requested'})`)
    this.attempts = attempts
  }
}

/**
 * Switches tfjs to the first backend in `order` that initialises *and* computes a small matMul correctly.
 * The backends themselves must already be registered by the caller (by importing
 * `@tensorflow/tfjs-backend-webgl` etc.), so this package never pulls a backend into a bundle.
 *
 * `tf.setBackend` reports most failures by returning `false` (it only logs why), and throws for an
 * unregistered name; both are caught here. A backend can also initialise and then fail its first
 * kernel (a WebGL context that is lost, a shader that does not compile), hence the smoke test.
 * @example
 * import '@tensorflow/tfjs-backend-webgl'
 * const name = await selectBackend(tf, ['webgl', 'wasm', 'cpu']) // 'webgl' where WebGL works
 */
export async function selectBackend(tf: typeof TF, order: readonly BackendName[]): Promise<BackendName> {
  const attempts: BackendAttempt[] = []
  for (const backend of order) {
    try {
      if (!(await tf.setBackend(backend))) {
        attempts.push({ backend, error: 'setBackend returned false (initialisation failed)' })
        continue
      }
      await tf.ready()
      await smokeTest(tf)
      return backend
    } catch (err) {
      attempts.push({ backend, error: err instanceof Error ? err.message : String(err) })
    }
  }
  throw new BackendError(attempts)
}

async function smokeTest(tf: typeof TF): Promise<void> {
  const result = tf.tidy(() =>
    tf.add(tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([1, 1], [2, 1])), 1),
  )
  try {
    const values = await result.data()
    if (values[0] !== 4 || values[1] !== 8) {
      throw new Error(`smoke test computed [${Array.from(values).join(', ')}] instead of [4, 8]`)
    }
  } finally {
    result.dispose()
  }
}

/**
 * True when the active backend is WebGL and its context has been lost (GPU reset, driver update, the browser
 * reclaiming contexts). tfjs does not throw then: kernels keep "running" and reads return stale or zero data,
 * so callers must ask, and move to another backend.
 * @example if (isWebGLContextLost(tf)) await selectBackend(tf, ['wasm', 'cpu'])
 */
export function isWebGLContextLost(tf: typeof TF): boolean {
  if (tf.getBackend() !== 'webgl') return false
  const gl = (tf.backend() as unknown as { gpgpu?: { gl?: { isContextLost?: () => boolean } } }).gpgpu?.gl
  return gl?.isContextLost?.() === true
}
