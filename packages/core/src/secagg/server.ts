import { fromBase64Url } from './bytes.ts'
import { addInto, CIPHERTEXT_BYTES } from './client-state.ts'
import { IV_BYTES } from './crypto.ts'
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
  checkCohort,
  checkMinClients,
  checkSessionId,
  checkVectorLength,
  DEFAULT_SECAGG_MIN_CLIENTS,
  defaultThreshold,
  isClientId,
  MAX_SECAGG_CLIENTS,
} from './params.ts'
import { platform } from './platform.ts'
import { checkPublicKey, checkShareList } from './server-checks.ts'
import { unmaskSum } from './server-finish.ts'

/** Where a cohort is: which message the server accepts next. */
export type SecAggPhase = 'advertise' | 'share' | 'mask' | 'unmask' | 'done'

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
  phase: SecAggPhase
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
  readonly phase: SecAggPhase
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

// Long (about 200 lines) because it is one object of short methods over `s` and four indexes built from
// it; each add validates the whole message before it touches either, and keeping them in one closure keeps
// that invariant in view. The reconstruction (server-finish.ts) and message checks (server-checks.ts) are apart.
function serverFromState(s: SecAggServerState): SecAggServer {
  const { sessionId, vectorLength, minClients, maxClients } = s.options
  const adverts = new Map(s.advertisements.map((a) => [a.id, a]))
  const shareKeys = new Map(s.shareKeys.map((m) => [m.id, m]))
  const masked = new Set(s.masked)
  const responses = new Map(s.responses.map((r) => [r.id, r]))

  const expectPhase = (phase: SecAggPhase, what: string): void => {
    if (s.phase !== phase) throw new SecAggError('bad_phase', `${what} is not accepted in phase ${s.phase}`)
  }
  const checkHeader = (message: { sessionId: unknown; id: unknown }, what: string): number => {
    if (message.sessionId !== sessionId) {
      throw new SecAggError(
        'bad_message',
        `${what} is for session ${JSON.stringify(message.sessionId)}, not ${sessionId}`,
      )
    }
    if (!isClientId(message.id))
      throw new SecAggError('bad_message', `${what}: bad client id ${String(message.id)}`)
    return message.id
  }
  const threshold = (): number => s.roster!.threshold

  const server: SecAggServer = {
    sessionId,
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
      return s.phase === 'unmask' && responses.size >= threshold()
    },

    addAdvertisement(message) {
      expectPhase('advertise', 'advertise-keys')
      const id = checkHeader(message, 'advertise-keys')
      if (adverts.has(id)) throw new SecAggError('duplicate_message', `client ${id} already advertised keys`)
      if (adverts.size >= maxClients) {
        throw new SecAggError('cohort_too_large', `the cohort is full (${maxClients} clients)`)
      }
      const entry: RosterEntry = {
        id,
        cPublicKey: checkPublicKey(message.cPublicKey, `c key of ${id}`),
        sPublicKey: checkPublicKey(message.sPublicKey, `s key of ${id}`),
      }
      if (entry.cPublicKey === entry.sPublicKey) {
        throw new SecAggError('bad_message', `client ${id} advertised the same key twice`)
      }
      adverts.set(id, entry)
      s.advertisements.push(entry)
    },

    closeAdvertise() {
      expectPhase('advertise', 'closing advertise-keys')
      const n = adverts.size
      const t = Math.max(s.options.threshold ?? 0, defaultThreshold(n))
      checkCohort(n, t, minClients)
      s.roster = {
        type: 'roster',
        sessionId,
        threshold: t,
        clients: [...adverts.values()].sort((a, b) => a.id - b.id),
      }
      s.phase = 'share'
      return platform.structuredClone(s.roster)
    },

    addShareKeys(message) {
      expectPhase('share', 'share-keys')
      const id = checkHeader(message, 'share-keys')
      if (!adverts.has(id)) throw new SecAggError('unknown_client', `client ${id} is not in the roster`)
      if (shareKeys.has(id))
        throw new SecAggError('duplicate_message', `client ${id} already sent its shares`)
      fromBase64Url(message.seedCommitment, 32, `seed commitment of ${id}`)
      const shares = Array.isArray(message.shares) ? message.shares : []
      const seen = new Set<number>()
      for (const share of shares) {
        if (!adverts.has(share.to) || share.to === id || seen.has(share.to)) {
          throw new SecAggError(
            'unknown_client',
            `client ${id} sent a share for ${share.to}: unknown, itself or repeated`,
          )
        }
        seen.add(share.to)
        fromBase64Url(share.iv, IV_BYTES, `iv ${id}→${share.to}`)
        fromBase64Url(share.ciphertext, CIPHERTEXT_BYTES, `ciphertext ${id}→${share.to}`)
      }
      if (seen.size !== adverts.size - 1) {
        throw new SecAggError(
          'bad_message',
          `client ${id} must send a share to each of the ${adverts.size - 1} other clients, sent ${seen.size}`,
        )
      }
      const copy: ShareKeysMessage = {
        type: 'share-keys',
        sessionId,
        id,
        seedCommitment: message.seedCommitment,
        shares: shares.map(({ to, iv, ciphertext }) => ({ to, iv, ciphertext })),
      }
      shareKeys.set(id, copy)
      s.shareKeys.push(copy)
    },

    closeShare() {
      expectPhase('share', 'closing share-keys')
      if (shareKeys.size < threshold()) {
        throw new SecAggError(
          'too_few_survivors',
          `${shareKeys.size} clients shared their keys, the threshold is ${threshold()}`,
        )
      }
      s.shared = [...shareKeys.keys()].sort((a, b) => a - b)
      s.phase = 'mask'
      return [...s.shared]
    },

    inbox(to) {
      if (s.shared === null)
        throw new SecAggError('bad_phase', `no inbox before share-keys is closed (phase ${s.phase})`)
      if (!s.shared.includes(to))
        throw new SecAggError('unknown_client', `client ${to} did not share its keys`)
      const shares: ShareInbox['shares'] = []
      for (const from of s.shared) {
        if (from === to) continue
        const entry = shareKeys.get(from)!.shares.find((x) => x.to === to)!
        shares.push({ from, iv: entry.iv, ciphertext: entry.ciphertext })
      }
      return { type: 'share-inbox', sessionId, to, shares }
    },

    addMaskedInput(message) {
      expectPhase('mask', 'masked-input')
      const id = checkHeader(message, 'masked-input')
      if (!s.shared!.includes(id))
        throw new SecAggError('unknown_client', `client ${id} did not share its keys`)
      if (masked.has(id))
        throw new SecAggError('duplicate_message', `client ${id} already sent its masked input`)
      if (!(message.masked instanceof Uint32Array) || message.masked.length !== vectorLength) {
        throw new SecAggError(
          'vector_length',
          `the masked input of ${id} must be ${vectorLength} u32, got ${message.masked?.length ?? typeof message.masked}`,
        )
      }
      addInto(s.maskedSum, message.masked, 1)
      masked.add(id)
      s.masked.push(id)
    },

    closeMask() {
      expectPhase('mask', 'closing masked-input')
      if (masked.size < threshold()) {
        throw new SecAggError(
          'too_few_survivors',
          `${masked.size} clients sent a masked input, the threshold is ${threshold()}`,
        )
      }
      s.request = {
        type: 'unmask-request',
        sessionId,
        survivors: [...masked].sort((a, b) => a - b),
        dropped: s.shared!.filter((u) => !masked.has(u)),
      }
      s.phase = 'unmask'
      return platform.structuredClone(s.request)
    },

    addUnmaskResponse(message) {
      expectPhase('unmask', 'unmask-response')
      const id = checkHeader(message, 'unmask-response')
      const request = s.request!
      if (!request.survivors.includes(id))
        throw new SecAggError('unknown_client', `client ${id} is not a survivor`)
      if (responses.has(id)) throw new SecAggError('duplicate_message', `client ${id} already answered`)
      checkShareList(message.selfMaskShares, request.survivors, `seed shares from ${id}`)
      checkShareList(message.keyShares, request.dropped, `key shares from ${id}`)
      const copy: UnmaskResponse = {
        type: 'unmask-response',
        sessionId,
        id,
        selfMaskShares: message.selfMaskShares.map(({ of, share }) => ({ of, share })),
        keyShares: message.keyShares.map(({ of, share }) => ({ of, share })),
      }
      responses.set(id, copy)
      s.responses.push(copy)
    },

    async finish() {
      expectPhase('unmask', 'finish')
      const t = threshold()
      if (responses.size < t) {
        throw new SecAggError(
          'too_few_survivors',
          `${responses.size} unmask responses, the threshold is ${t}`,
        )
      }
      const result = await unmaskSum(s, [...responses.values()], shareKeys)
      s.phase = 'done'
      return result
    },

    exportState() {
      return platform.structuredClone(s)
    },
  }
  return server
}
