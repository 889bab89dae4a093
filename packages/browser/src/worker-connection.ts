// The page's side of the worker: initialised (or failed fast), called with typed errors, stopped.
import * as Comlink from 'comlink'
import type { EngineOptions } from './engine/index.ts'
import { registerErrorTransfer } from './error-transfer.ts'
import { FedrecError, toFedrecError } from './errors.ts'
import type { WorkerApi } from './worker.ts'
import type { StartedWorker } from './worker-start.ts'

/** A started and initialised worker. */
export interface WorkerConnection {
  remote: Comlink.Remote<WorkerApi>
  /** Runs `work` on the worker, its failures as FedrecErrors; `closed` once stopped. */
  call<T>(work: () => Promise<T>): Promise<T>
  readonly closed: boolean
  /** Stops the worker (idempotent). */
  stop(): void
}

/**
 * Initialises the engine in a started worker. A worker whose script cannot load or throws at start never
 * answers comlink: this fails on its error event instead of waiting for ever (the widget then falls back
 * to its degraded mode), and leaves nothing running.
 * @example const connection = await connectWorker(startWorker(undefined), options)
 */
export async function connectWorker(
  started: StartedWorker,
  options: EngineOptions,
): Promise<WorkerConnection> {
  const { worker } = started
  registerErrorTransfer()
  const remote = Comlink.wrap<WorkerApi>(worker)
  let closed = false
  const connection: WorkerConnection = {
    remote,
    get closed() {
      return closed
    },
    async call(work) {
      if (closed) throw new FedrecError('closed', 'this recommender was closed')
      try {
        return await work()
      } catch (err) {
        throw toFedrecError(err)
      }
    },
    stop() {
      if (closed) return
      closed = true
      remote.close().catch(() => undefined)
      remote[Comlink.releaseProxy]()
      worker.terminate()
      started.release()
    },
  }
  let onWorkerError: (event: Event) => void = () => undefined
  const workerFailed = new Promise<never>((_, reject) => {
    onWorkerError = (event) => {
      const detail = event instanceof ErrorEvent && event.message ? `: ${event.message}` : ''
      reject(new FedrecError('internal', `the recommender worker failed to start${detail}`))
    }
  })
  worker.addEventListener('error', onWorkerError)
  try {
    await Promise.race([connection.call(() => remote.init(options)), workerFailed])
  } catch (err) {
    remote[Comlink.releaseProxy]()
    worker.terminate()
    started.release()
    throw err
  } finally {
    worker.removeEventListener('error', onWorkerError)
  }
  return connection
}
