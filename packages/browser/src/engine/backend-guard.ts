// The tfjs backend: chosen once (shared by concurrent first calls), watched for context loss, fallen back from.
import {
  type BackendName,
  createScorer,
  isWebGLContextLost,
  type Scorer,
  type SharedWeights,
  selectBackend,
} from '@fedrec/core/client'
import type * as tfjs from '@tensorflow/tfjs-core'
import createDebug from 'debug'
import { FedrecError } from '../errors.ts'

const log = createDebug('fedrec:browser:engine')

/** Options of {@link BackendGuard.run}. */
export interface RunOptions {
  /** An error that every backend would raise alike (bad input): thrown at once instead of falling back. */
  isInputError?: (err: unknown) => boolean
}

/** The backend in use and the scorer built on it; see {@link createBackendGuard}. */
export interface BackendGuard {
  /** The backend in use, choosing one on first call. */
  ensure(): Promise<BackendName>
  /** Runs `work` on a working backend, moving to the next one when a backend fails under it. */
  run<T>(work: (backend: BackendName) => Promise<T>, options?: RunOptions): Promise<T>
  /** {@link run} on the scorer of `weights` (built once per model and backend). */
  withScorer<T>(weights: SharedWeights, work: (scorer: Scorer) => Promise<T>): Promise<T>
  /** Frees the scorer (a new model, or the end). */
  dropScorer(): void
}

/**
 * A guard of the tfjs backends `backends`, tried in order. Bad input aside, any failure of work run
 * through it (a lost WebGL context, a kernel error, non-finite results from low precision) moves to the
 * next backend and runs the work again; the last one failing throws `no_backend`.
 * @example const guard = createBackendGuard(tf, ['webgl', 'wasm', 'cpu']); await guard.ensure()
 */
export function createBackendGuard(tf: typeof tfjs, backends: BackendName[]): BackendGuard {
  let order = backends
  let backend: BackendName | null = null
  /** The backend choice under way, shared by concurrent first calls. */
  let choosing: Promise<BackendName> | null = null
  let scorer: { weights: SharedWeights; scorer: Scorer } | null = null

  const dropScorer = (): void => {
    scorer?.scorer.dispose()
    scorer = null
  }

  /**
   * Concurrent first calls (the widget's suggestion and a sync, say) share one choice: two interleaved
   * `tf.setBackend` runs tear down each other's backend mid-initialisation.
   */
  const ensure = (): Promise<BackendName> => {
    if (backend) return Promise.resolve(backend)
    choosing ??= choose().finally(() => {
      choosing = null
    })
    return choosing
  }

  async function choose(): Promise<BackendName> {
    try {
      backend = await selectBackend(tf, order)
    } catch (cause) {
      throw new FedrecError('no_backend', `no tfjs backend works here (tried ${order.join(', ')})`, { cause })
    }
    log('backend %s', backend)
    return backend
  }

  /** A lost WebGL context does not make tfjs throw: ask, and treat it as the backend failing. */
  const checkContext = (): void => {
    if (isWebGLContextLost(tf)) throw new Error('the WebGL context was lost')
  }

  /**
   * Work on the GPU that never finishes once the context is lost (tfjs waits for a fence that no longer
   * signals): race it against a check of the context, so a loss mid-work fails over instead of hanging.
   */
  function untilContextLost<T>(work: Promise<T>): Promise<T> {
    // Only a WebGL context can be lost: on WASM and CPU there is nothing to poll.
    if (tf.getBackend() !== 'webgl') return work
    let timer: ReturnType<typeof setInterval> | undefined
    const lost = new Promise<never>((_, reject) => {
      timer = setInterval(() => {
        if (isWebGLContextLost(tf)) reject(new Error('the WebGL context was lost'))
      }, 100)
    })
    return Promise.race([work, lost]).finally(() => clearInterval(timer))
  }

  /** Drops a backend that failed mid-work (e.g. a lost WebGL context) and moves to the next one. */
  async function fallBack(failed: BackendName, cause: unknown): Promise<void> {
    const rest = order.slice(order.indexOf(failed) + 1)
    log('backend %s failed (%o); falling back to %o', failed, cause, rest)
    dropScorer()
    backend = null
    if (rest.length === 0) {
      const why = cause instanceof Error ? cause.message : String(cause)
      throw new FedrecError('no_backend', `backend ${failed} failed (${why}) and none is left to try`, {
        cause,
      })
    }
    order = rest
  }

  async function run<T>(work: (backend: BackendName) => Promise<T>, options: RunOptions = {}): Promise<T> {
    for (;;) {
      const current = await ensure()
      try {
        checkContext()
        const result = await untilContextLost(work(current))
        checkContext()
        return result
      } catch (err) {
        if (err instanceof FedrecError || options.isInputError?.(err)) throw err
        await fallBack(current, err)
      }
    }
  }

  return {
    ensure,
    run,
    withScorer(weights, work) {
      return run(() => {
        if (scorer?.weights !== weights) {
          dropScorer()
          scorer = { weights, scorer: createScorer(tf, weights) }
        }
        return work(scorer.scorer)
      })
    },
    dropScorer,
  }
}
