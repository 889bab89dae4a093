// The Web Worker entry: everything tfjs lives here, never on the page's main thread.
import './register-backends.ts'
import * as tf from '@tensorflow/tfjs-core'
import * as Comlink from 'comlink'
import { Engine, type EngineOptions, type Recommendation, type SyncReport } from './engine/index.ts'
import { registerErrorTransfer } from './error-transfer.ts'
import { FedrecError, toFedrecError } from './errors.ts'
import type { LeaveOut } from './events.ts'
import type { CheckedRerankOptions } from './recommender-input.ts'
import type { RerankResult } from './rerank.ts'
import type { SuggestionSet, SuggestRequest } from './suggest.ts'

let engine: Engine | null = null

const ready = (): Engine => {
  if (!engine) throw new FedrecError('closed', 'the recommender worker is not initialised (or was closed)')
  return engine
}

// Every error leaves as a FedrecError, whose code the transfer handler carries to the page.
async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    throw toFedrecError(err)
  }
}

const api = {
  init(options: EngineOptions): Promise<void> {
    return guarded(async () => {
      engine?.dispose()
      engine = await Engine.create(tf, options)
    })
  },
  sync(): Promise<SyncReport> {
    return guarded(() => ready().sync())
  },
  recommend(k: number, leaveOut?: LeaveOut): Promise<Recommendation[]> {
    return guarded(() => ready().recommend(k, leaveOut))
  },
  suggest(request: SuggestRequest): Promise<SuggestionSet> {
    return guarded(() => ready().suggest(request))
  },
  rerank(itemIds: string[], options: CheckedRerankOptions): Promise<RerankResult> {
    return guarded(() => ready().rerank(itemIds, options))
  },
  backend(): Promise<string> {
    return guarded(() => ready().ensureBackend())
  },
  forget(): Promise<void> {
    return guarded(() => ready().forget())
  },
  close(): void {
    engine?.dispose()
    engine = null
  },
}

/** What the page may ask of the worker (the page imports only this type, so tfjs stays out of its bundle). */
export type WorkerApi = typeof api

registerErrorTransfer()
Comlink.expose(api)
