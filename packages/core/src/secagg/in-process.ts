// A whole secure-aggregation cohort run in one process (clients and server): for the simulator and tests,
// never for production, where each client is a separate device.
import { utf8 } from './bytes.ts'
import { createSecAggClient, type SecAggClient } from './client.ts'
import type { SecAggResult } from './messages.ts'
import { createSecAggServer } from './server.ts'

/**
 * Options of {@link runSecAggCohort}.
 * @example const options: SecAggCohortOptions = { sessionId: 'r1-x', inputs: new Map([[1, v1], [2, v2], [3, v3]]) }
 */
export interface SecAggCohortOptions {
  sessionId: string
  /** Each client's plain vector by id (all the same length). */
  inputs: ReadonlyMap<number, Uint32Array>
  /** Clients that go away after ShareKeys, before uploading their masked input. */
  dropBeforeUpload?: ReadonlySet<number>
  /** Clients that upload their masked input and then go away before Unmasking. */
  dropBeforeUnmask?: ReadonlySet<number>
  minClients?: number
  threshold?: number
  /** Measures with the system's clock; default `performance.now` when present, else `Date.now`. */
  now?: () => number
}

/** What one in-process cohort did: the server's result, what the server saw, and what it cost. */
export interface SecAggCohortReport {
  result: SecAggResult
  /** The masked vectors the server received, by client id: all an observer of the uploads sees. */
  masked: Map<number, Uint32Array>
  /** Bytes each client sent over the four rounds (JSON messages + 4 bytes per masked element), by id. */
  bytesUp: Map<number, number>
  /** Milliseconds each client spent in the protocol (keys, shares, masking, unmasking), by id. */
  clientMs: Map<number, number>
  /** Milliseconds the server spent (validation, sums, reconstruction and unmasking). */
  serverMs: number
}

/**
 * Runs the real protocol — the same client and server objects the browser and the aggregator use, the same
 * messages — for one cohort in one process, with optional drop-outs. For the simulator and for tests.
 * @example
 * const { result } = await runSecAggCohort({ sessionId: 'r3-abc', inputs, dropBeforeUnmask: new Set([2]) })
 */
export async function runSecAggCohort(options: SecAggCohortOptions): Promise<SecAggCohortReport> {
  const { sessionId, inputs } = options
  const now = options.now ?? defaultNow()
  const dropBeforeUpload = options.dropBeforeUpload ?? new Set<number>()
  const dropBeforeUnmask = options.dropBeforeUnmask ?? new Set<number>()
  const first = inputs.values().next().value
  const vectorLength = first?.length ?? 0
  const minClients = options.minClients
  const bytesUp = new Map<number, number>()
  const clientMs = new Map<number, number>()
  let serverMs = 0
  const timeClient = async <T>(id: number, work: () => Promise<T>): Promise<T> => {
    const start = now()
    const out = await work()
    clientMs.set(id, (clientMs.get(id) ?? 0) + now() - start)
    return out
  }
  const timeServer = async <T>(work: () => T | Promise<T>): Promise<T> => {
    const start = now()
    const out = await work()
    serverMs += now() - start
    return out
  }
  const send = (id: number, bytes: number): void => {
    bytesUp.set(id, (bytesUp.get(id) ?? 0) + bytes)
  }
  const json = (message: unknown): number => utf8(JSON.stringify(message)).length

  const server = createSecAggServer({
    sessionId,
    vectorLength,
    ...(minClients !== undefined ? { minClients } : {}),
    ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
  })
  const clients = new Map<number, SecAggClient>()
  for (const id of inputs.keys()) {
    const client = await timeClient(id, () =>
      createSecAggClient({
        sessionId,
        id,
        vectorLength,
        ...(minClients !== undefined ? { minClients } : {}),
      }),
    )
    clients.set(id, client)
    const message = await timeClient(id, () => client.advertiseKeys())
    send(id, json(message))
    await timeServer(() => server.addAdvertisement(message))
  }
  const roster = await timeServer(() => server.closeAdvertise())
  for (const [id, client] of clients) {
    const message = await timeClient(id, () => client.shareKeys(roster))
    send(id, json(message))
    await timeServer(() => server.addShareKeys(message))
  }
  await timeServer(() => server.closeShare())
  const masked = new Map<number, Uint32Array>()
  for (const [id, client] of clients) {
    if (dropBeforeUpload.has(id)) continue
    const inbox = await timeServer(() => server.inbox(id))
    const message = await timeClient(id, () => client.maskInput(inbox, inputs.get(id)!))
    send(id, json({ ...message, masked: undefined }) + 4 * message.masked.length)
    masked.set(id, message.masked)
    await timeServer(() => server.addMaskedInput(message))
  }
  const request = await timeServer(() => server.closeMask())
  for (const [id, client] of clients) {
    if (dropBeforeUpload.has(id) || dropBeforeUnmask.has(id)) continue
    const message = await timeClient(id, () => client.unmask(request))
    send(id, json(message))
    await timeServer(() => server.addUnmaskResponse(message))
  }
  const result = await timeServer(() => server.finish())
  return { result, masked, bytesUp, clientMs, serverMs }
}

function defaultNow(): () => number {
  const performance = (globalThis as { performance?: { now(): number } }).performance
  return performance ? () => performance.now() : () => Date.now()
}
