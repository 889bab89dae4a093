// The secure-aggregation server of one cohort: its options, its exportable state and a thin facade that
// wires the per-phase files (server-advertise.ts … server-unmask.ts) over one context (server-context.ts).
import type { SecAggPhase } from '@fedrec/protocol'
import { SecAggError } from './errors.ts'
import type {
  AdvertiseKeysMessage,
  MaskedInputMessage,
  RosterEntry,
  SecAggResult,
  SecAggRoster,
  ShareInbox,
  ShareKeysMessage,
  UnmaskRequest,
  UnmaskResponse,
} from './messages.ts'
import {
  checkMinClients,
  checkSessionId,
  checkVectorLength,
  DEFAULT_SECAGG_MIN_CLIENTS,
  MAX_SECAGG_CLIENTS,
} from './params.ts'
import { platform } from './platform.ts'
import { addAdvertisement, closeAdvertise } from './server-advertise.ts'
import { createServerContext, threshold } from './server-context.ts'
import { addMaskedInput, closeMask } from './server-mask.ts'
import { addShareKeys, closeShare, inbox } from './server-share.ts'
import { addUnmaskResponse, finish } from './server-unmask.ts'

/**
 * Where a cohort is: which message the server accepts next. The cohort phases on the wire without
 * 'aborted': this server never aborts, the aggregator aborts a cohort around it.
 * @example const phase: SecAggServerPhase = server.phase
 */
export type SecAggServerPhase = Exclude<SecAggPhase, 'aborted'>

/**
 * Options of {@link createSecAggServer}.
 * @example const options: SecAggServerOptions = { sessionId: 'r12-9f2c', vectorLength: 57189, minClients: 5 }
 */
export interface SecAggServerOptions {
  sessionId: string
  vectorLength: number
  /** Smallest cohort; default {@link DEFAULT_SECAGG_MIN_CLIENTS}. */
  minClients?: number
  /** A floor for t; the threshold used is max(threshold, ⌊n/2⌋+1) for the n clients that advertised. */
  threshold?: number
  /** Largest cohort (≤ 255); further advertisements are refused with `cohort_too_large`. */
  maxClients?: number
}

/**
 * The whole server state, for durability: every field is JSON-able except `maskedSum` (store it as a blob).
 * `restoreSecAggServer(state)` continues exactly where `exportState()` was taken.
 */
export interface SecAggServerState {
  version: 1
  options: Required<Omit<SecAggServerOptions, 'threshold'>> & { threshold: number | null }
  phase: SecAggServerPhase
  advertisements: RosterEntry[]
  roster: SecAggRoster | null
  shareKeys: ShareKeysMessage[]
  /** U2, once round 1 is closed. */
  shared: number[] | null
  /** Ids whose masked input is in `maskedSum`. */
  masked: number[]
  maskedSum: Uint32Array
  request: UnmaskRequest | null
  responses: UnmaskResponse[]
}

/**
 * The aggregator's side of one cohort. Adds are synchronous and validate the whole message before changing
 * anything (so a refused message leaves the state as it was); closes move to the next phase. Masked inputs
 * are summed as they arrive, so memory is one vector, not one per client.
 * @example
 * const server = createSecAggServer({ sessionId, vectorLength })
 * for (const m of adverts) server.addAdvertisement(m)
 * const roster = server.closeAdvertise()
 * for (const m of shareKeys) server.addShareKeys(m)
 * server.closeShare(); const inbox = server.inbox(id)
 * for (const m of maskedInputs) server.addMaskedInput(m)
 * const request = server.closeMask()
 * for (const m of responses) server.addUnmaskResponse(m)
 * const { sum } = await server.finish()
 */
export interface SecAggServer {
  readonly sessionId: string
  readonly phase: SecAggServerPhase
  /** Ids that advertised keys, in arrival order. */
  readonly advertised: readonly number[]
  readonly roster: SecAggRoster | undefined
  /** U2 once round 1 is closed. */
  readonly shared: readonly number[] | undefined
  /** Ids whose masked input arrived. */
  readonly masked: readonly number[]
  readonly unmaskRequest: UnmaskRequest | undefined
  /** Ids whose unmask response arrived. */
  readonly responded: readonly number[]
  /** True once at least t unmask responses are in. */
  readonly canFinish: boolean
  addAdvertisement(message: AdvertiseKeysMessage): void
  /** Closes round 0; throws `cohort_too_small` / `threshold_too_low` (state unchanged). */
  closeAdvertise(): SecAggRoster
  addShareKeys(message: ShareKeysMessage): void
  /** Closes round 1 (U2 = the senders); throws `too_few_survivors` if fewer than t shared. */
  closeShare(): readonly number[]
  /** The encrypted shares addressed to `to` (a member of U2). */
  inbox(to: number): ShareInbox
  addMaskedInput(message: MaskedInputMessage): void
  /** Closes round 2 (U3 = who sent a masked input); throws `too_few_survivors` if fewer than t. */
  closeMask(): UnmaskRequest
  addUnmaskResponse(message: UnmaskResponse): void
  /** Reconstructs the seeds and dropped keys, removes every mask and returns the sum; phase becomes 'done'. */
  finish(): Promise<SecAggResult>
  exportState(): SecAggServerState
}

/**
 * Creates the server state machine of one cohort.
 * @example const server = createSecAggServer({ sessionId: `r${round}-${newRandomId()}`, vectorLength, minClients: 5 })
 */
export function createSecAggServer(options: SecAggServerOptions): SecAggServer {
  const minClients = options.minClients ?? DEFAULT_SECAGG_MIN_CLIENTS
  const maxClients = options.maxClients ?? MAX_SECAGG_CLIENTS
  checkSessionId(options.sessionId)
  checkVectorLength(options.vectorLength)
  checkMinClients(minClients)
  if (!Number.isSafeInteger(maxClients) || maxClients < minClients || maxClients > MAX_SECAGG_CLIENTS) {
    throw new SecAggError(
      'bad_parameters',
      `maxClients must be in ${minClients}..${MAX_SECAGG_CLIENTS}, got ${maxClients}`,
    )
  }
  const threshold = options.threshold ?? null
  if (threshold !== null && (!Number.isSafeInteger(threshold) || threshold < 2)) {
    throw new SecAggError('bad_parameters', `threshold must be an integer >= 2, got ${threshold}`)
  }
  return serverFromState({
    version: 1,
    options: {
      sessionId: options.sessionId,
      vectorLength: options.vectorLength,
      minClients,
      maxClients,
      threshold,
    },
    phase: 'advertise',
    advertisements: [],
    roster: null,
    shareKeys: [],
    shared: null,
    masked: [],
    maskedSum: new Uint32Array(options.vectorLength),
    request: null,
    responses: [],
  })
}

/**
 * Rebuilds a server from {@link SecAggServer.exportState}, e.g. after an aggregator restart.
 * @example const server = restoreSecAggServer({ ...JSON.parse(row.state), maskedSum: new Uint32Array(row.sum.buffer) })
 */
export function restoreSecAggServer(state: SecAggServerState): SecAggServer {
  if (state.version !== 1)
    throw new SecAggError('bad_parameters', `unknown secagg state version ${state.version}`)
  if (!(state.maskedSum instanceof Uint32Array) || state.maskedSum.length !== state.options.vectorLength) {
    throw new SecAggError('bad_parameters', 'the restored masked sum does not match the vector length')
  }
  return serverFromState(platform.structuredClone(state))
}

// Only getters and delegations: the context (server-context.ts) holds the state and its indexes, and each
// phase's file keeps the invariant stated there (an add validates the whole message before it changes anything).
function serverFromState(s: SecAggServerState): SecAggServer {
  const ctx = createServerContext(s)
  const { adverts, masked, responses } = ctx
  return {
    sessionId: s.options.sessionId,
    get phase() {
      return s.phase
    },
    get advertised() {
      return [...adverts.keys()]
    },
    get roster() {
      return s.roster ?? undefined
    },
    get shared() {
      return s.shared ?? undefined
    },
    get masked() {
      return [...masked]
    },
    get unmaskRequest() {
      return s.request ?? undefined
    },
    get responded() {
      return [...responses.keys()]
    },
    get canFinish() {
      return s.phase === 'unmask' && responses.size >= threshold(ctx)
    },
    addAdvertisement: (message) => addAdvertisement(ctx, message),
    closeAdvertise: () => closeAdvertise(ctx),
    addShareKeys: (message) => addShareKeys(ctx, message),
    closeShare: () => closeShare(ctx),
    inbox: (to) => inbox(ctx, to),
    addMaskedInput: (message) => addMaskedInput(ctx, message),
    closeMask: () => closeMask(ctx),
    addUnmaskResponse: (message) => addUnmaskResponse(ctx, message),
    finish: () => finish(ctx),
    exportState: () => platform.structuredClone(s),
  }
}
