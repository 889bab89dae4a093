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
  watch: StartWatch = watchStart(started.worker),
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
  try {
    await Promise.race([connection.call(() => remote.init(options)), watch.failed])
  } catch (err) {
    remote[Comlink.releaseProxy]()
    worker.terminate()
    started.release()
    throw err
  } finally {
    watch.stop()
  }
  return connection
}

/** A worker's start being watched: {@link watchStart}. */
export interface StartWatch {
  /** Rejects with an `internal` FedrecError on the worker's first error event; never resolves. */
  failed: Promise<never>
  /** Stops listening. */
  stop(): void
}

/**
 * Listens for the worker's error event from now on. A script that throws at start fires it once, in a task
 * after the one that created the worker, so whoever is handed a worker must start watching before its first
 * `await` — `createRecommender` opens IndexedDB before it talks to the worker, and an error fired meanwhile
 * would otherwise be missed and the start would wait for ever.
 * @example const watch = watchStart(worker); await openDatabase(); await connectWorker(started, options, watch)
 */
export function watchStart(worker: Worker): StartWatch {
  let onError: (event: Event) => void = () => undefined
  const failed = new Promise<never>((_, reject) => {
    onError = (event) => {
      const detail = event instanceof ErrorEvent && event.message ? `: ${event.message}` : ''
      reject(new FedrecError('internal', `the recommender worker failed to start${detail}`))
    }
  })
  // Nobody may be racing it yet (or ever, when opening the database fails first): not an unhandled rejection.
  failed.catch(() => undefined)
  worker.addEventListener('error', onError)
  return { failed, stop: () => worker.removeEventListener('error', onError) }
}
